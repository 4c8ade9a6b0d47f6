"""The change feed: derived state is written with its cause.

Verdicts and search documents are derived from the database. Whatever can change them
is recorded in the `change_feed` table in the same transaction as the change, at one
depth: session hooks map the rows a flush writes, and the bulk UPDATE and DELETE
statements a service runs, to the assets, people and collections they affect (see
dam/change_hooks.py). No service has to remember a call, so no path can forget one.

One drainer per runtime (`ChangeFeed`) takes rows off the feed in a transaction of its
own and runs the registered steps over them in order (gdpr re-judges the verdicts, then
search marks the documents for its index writer), each once per asset per drain. It is
kicked after every commit of a runtime session and after every job, and drains in that
thread (so the request that changed an asset shows its new verdict; deletions and
erasures have left search when it returns); a poller looks every second for rows left by
sessions without a drainer and by other processes; the sweep drains after the periodic
tasks, and the runtime drains what is left when it closes. Several drainers (threads,
processes, machines) share the feed: on PostgreSQL a drain claims its rows with FOR
UPDATE SKIP LOCKED; SQLite has one writer at a time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from dam.chunks import chunks
from dam.clock import now
from dam.db import UTCDateTime, among
from dam.models import ChangeRow, CollectionAsset, Face

if TYPE_CHECKING:
    from dam.runtime import Runtime

log = logging.getLogger(__name__)

# Rows older than this after a drain mean a step keeps failing: the sweep warns.
BACKLOG_WARNING_S = 120.0
FEED = ChangeRow.__table__  # type: ignore[attr-defined]
_FACE = Face.__table__  # type: ignore[attr-defined]
_MEMBER = CollectionAsset.__table__  # type: ignore[attr-defined]

# What a row's subject_id names.
ASSET = "asset"  # an asset whose facts changed: judge it again, index it again
PERSON = "person"  # a person whose name, visibility, minority or consents changed
COLLECTION = "collection"  # a collection whose title changed: its members' documents
DOCUMENT = "document"  # an asset whose search document alone is out of date
KINDS = (ASSET, PERSON, COLLECTION, DOCUMENT)

# How soon: FOLLOW within a second; REMOVE (a deleted asset) and PURGE (an erasure: no
# older copy left in the index's files either) before the committing call returns.
FOLLOW, REMOVE, PURGE = 0, 1, 2

# The order steps run in (Wiring.add_change_step): verdicts first, the search
# documents show them.
JUDGE, INDEX = 10, 20

BATCH = 500  # feed rows per drain transaction
POLL_S = 1.0  # how often the poller looks for rows left by sessions without a drainer
BACKOFF_S = 5.0  # after a failing drain (database away)
URGENT_WAIT_S = 10.0  # how long a deletion waits for another process's drain
_RETRIES = 5
_CONFLICT_BACKOFF_S = 0.01  # doubled at every retry: at most ~0.3 s in all

FEED_KEY = "change_feed"  # session.info: the runtime's ChangeFeed (Runtime.session())
_SEEN = "change_feed.seen"  # (kind, id, urgency) recorded in this transaction
_URGENT = "change_feed.urgent"  # asset id -> urgency, to drain before returning
_RECORDED = "change_feed.recorded"  # (lowest, highest) id of the rows written here
_PURGING = "change_feed.purging"  # an erasure: every asset recorded is purged
_DRAINING = "change_feed.batch"  # the batch of the drain this session belongs to


@dataclass
class ChangeBatch:
    """What one drain handles, merged from its rows (and what its steps add)."""

    assets: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    collections: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    purged: set[str] = field(default_factory=set)
    rows: int = 0

    def add(self, kind: str, ids: Iterable[str], urgency: int = FOLLOW) -> None:
        ids = list(ids)
        {ASSET: self.assets, PERSON: self.people, COLLECTION: self.collections}.get(
            kind, self.documents
        ).update(ids)
        if urgency == REMOVE and kind in (ASSET, DOCUMENT):
            self.removed.update(ids)
        elif urgency == PURGE and kind in (ASSET, DOCUMENT):
            self.purged.update(ids)

    def merge(self, other: ChangeBatch) -> None:
        for name in ("assets", "people", "collections", "documents", "removed", "purged"):
            getattr(self, name).update(getattr(other, name))
        self.rows += other.rows

    def document_ids(self, session: Session) -> list[str]:
        """Every asset whose search document this drain must rebuild: changed assets,
        those whose verdicts changed, and the assets of changed people and collections."""
        ids = self.assets | self.documents | self.removed | self.purged
        connection = session.connection()
        for chunk in chunks(sorted(self.people)):
            ids.update(
                connection.execute(
                    select(_FACE.c.asset_id)
                    .where(among(_FACE.c.person_id, chunk, connection))
                    .distinct()
                ).scalars()
            )
        for chunk in chunks(sorted(self.collections)):
            ids.update(
                connection.execute(
                    select(_MEMBER.c.asset_id)
                    .where(among(_MEMBER.c.collection_id, chunk, connection))
                    .distinct()
                ).scalars()
            )
        return sorted(ids)


class ChangeStep(Protocol):
    """One package's share of a drain."""

    def apply(self, session: Session, batch: ChangeBatch) -> None:
        """Bring derived state up to date in the drain's transaction."""

    def settle(self, batch: ChangeBatch) -> None:
        """After the drain committed: wake writers; remove and purge before returning."""


# --- recording -----------------------------------------------------------------------


def record(
    session: Session,
    *,
    assets: Iterable[str] = (),
    people: Iterable[str] = (),
    collections: Iterable[str] = (),
    documents: Iterable[str] = (),
    urgency: int = FOLLOW,
) -> None:
    """Record subjects in the caller's transaction (inside a drain: in its batch)."""
    given = ((ASSET, assets), (PERSON, people), (COLLECTION, collections), (DOCUMENT, documents))
    batch: ChangeBatch | None = session.info.get(_DRAINING)
    if batch is not None:
        for kind, ids in given:
            batch.add(kind, ids, urgency)
        return
    seen: set[tuple[str, str, int]] = session.info.setdefault(_SEEN, set())
    purging = bool(session.info.get(_PURGING))
    moment = now()
    rows = []
    for kind, ids in given:
        level = PURGE if purging and kind in (ASSET, DOCUMENT) else urgency
        for subject in ids:
            if subject is None or (kind, subject, level) in seen:
                continue
            seen.add((kind, subject, level))
            rows.append(
                {"kind": kind, "subject_id": subject, "urgency": level, "recorded_at": moment}
            )
            if level and kind in (ASSET, DOCUMENT):
                urgent: dict[str, int] = session.info.setdefault(_URGENT, {})
                urgent[subject] = max(level, urgent.get(subject, 0))
    if rows:
        written = session.connection().execute(insert(FEED).returning(FEED.c.id), rows)
        _note_written(session, list(written.scalars()))


def record_query(session: Session, kind: str, ids: Any, *, urgency: int = FOLLOW) -> None:
    """Record the subjects a one-column SELECT finds (rows about to change in bulk).

    Written by the database in one INSERT ... SELECT when nothing needs the ids here: a
    merge of people with 10,000 faces costs the user's transaction one statement."""
    if urgency or session.info.get(_PURGING) or session.info.get(_DRAINING) is not None:
        found = [row[0] for row in session.connection().execute(ids) if row[0] is not None]
        record(session, **{KEYWORD[kind]: found}, urgency=urgency)
        return
    column = ids.subquery().c[0]
    rows = (
        select(literal(kind), column, literal(FOLLOW), literal(now(), UTCDateTime()))
        .where(column.is_not(None))
        .distinct()
    )
    written = (
        session.connection()
        .execute(
            insert(FEED)
            .from_select(["kind", "subject_id", "urgency", "recorded_at"], rows)
            .returning(FEED.c.id, FEED.c.subject_id)
        )
        .all()
    )
    # Known to this transaction, as record() knows its rows: an erasure later in it
    # purges them too (start_purging), and they are not recorded twice.
    seen: set[tuple[str, str, int]] = session.info.setdefault(_SEEN, set())
    seen.update((kind, subject, FOLLOW) for _, subject in written)
    _note_written(session, [row_id for row_id, _ in written])


def _note_written(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    low, high = session.info.get(_RECORDED, (min(ids), max(ids)))
    session.info[_RECORDED] = (min(low, *ids), max(high, *ids))


KEYWORD = {ASSET: "assets", PERSON: "people", COLLECTION: "collections", DOCUMENT: "documents"}


def start_purging(session: Session) -> None:
    """From now on in this transaction (an erasure), every asset recorded is purged from
    the index's files; those recorded before are recorded again as such."""
    if session.info.get(_PURGING):
        return
    session.info[_PURGING] = True
    earlier = {s for kind, s, _ in session.info.get(_SEEN, ()) if kind in (ASSET, DOCUMENT)}
    record(session, assets=sorted(earlier), urgency=PURGE)


def after_commit(session: Session) -> None:
    """Kick the session's drainer when its transaction recorded anything; drain at once
    (in this thread) when it removed or erased assets."""
    recorded: tuple[int, int] | None = session.info.pop(_RECORDED, None)
    urgent: dict[str, int] | None = session.info.pop(_URGENT, None)
    _forget(session)
    feed: ChangeFeed | None = session.info.get(FEED_KEY)
    if feed is None or recorded is None:
        return  # the next kick, poll or sweep finds the rows
    feed.kick(urgent, recorded=recorded)


def after_rollback(session: Session) -> None:
    session.info.pop(_RECORDED, None)
    session.info.pop(_URGENT, None)
    _forget(session)


def _forget(session: Session) -> None:
    session.info.pop(_SEEN, None)
    session.info.pop(_PURGING, None)


# --- draining --------------------------------------------------------------------------


class ChangeFeed:
    """One runtime's drainer: drains in the thread that committed (whose caller then
    reads its own change), and from a thread that looks for rows others left."""

    def __init__(
        self, runtime: Runtime, steps: list[tuple[str, ChangeStep]], *, poll: bool = True
    ) -> None:
        """`steps`: the runtime's wiring's (`Wiring.build_change_steps`), in their order."""
        self.runtime = runtime
        engine = runtime.engine
        # On PostgreSQL a drain reads one snapshot: a verdict written meanwhile by another
        # drain makes ours fail and start over, instead of overwriting it with older facts.
        if engine.dialect.name == "postgresql":
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        self.engine = engine
        self.steps = steps
        self.poll = poll
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def kick(
        self, urgent: dict[str, int] | None = None, *, recorded: tuple[int, int] | None = None
    ) -> None:
        """Something was recorded: drain it now, in this thread (`urgent`: removed or
        erased assets, which must have left search, whoever drains them). With `recorded`
        (the ids of the committed rows), return only once they were handled, here or by a
        drainer that claimed them first (the poller, another process): whoever committed
        a change then reads verdicts and search documents that include it."""
        if self._closed:
            return
        if self.poll:
            self._start()
        try:
            if urgent:
                self.drain_urgent(urgent)
            else:
                self.drain()
            if recorded is not None:
                self._wait_until_handled(*recorded)
        except Exception:
            # The caller's change is committed: it must not fail now. The rows stay on
            # the feed for the poller, the sweep or the next kick.
            log.exception("change feed drain failed; its rows wait for the next drain")

    def drain(self) -> int:
        """Handle every row on the feed, a batch per transaction; returns how many rows."""
        return sum(batch.rows for batch in self._drain_all())

    def drain_urgent(self, urgent: dict[str, int]) -> None:
        """Drain now, and return only when these removed or erased assets have left
        search, whoever drained them."""
        handled: set[str] = set()
        for batch in self._drain_all():
            handled |= batch.removed | batch.purged
        elsewhere = {a: u for a, u in urgent.items() if a not in handled}
        if not elsewhere:
            return
        # Another drainer (a thread, a process) claimed them: wait until it committed,
        # then settle them here too (removing twice is harmless, returning too early is
        # not).
        deadline = time.monotonic() + URGENT_WAIT_S
        while self._on_feed(list(elsewhere)) and time.monotonic() < deadline:
            time.sleep(0.05)
        batch = ChangeBatch()
        for asset_id, level in elsewhere.items():
            batch.add(ASSET, [asset_id], level)
        self._settle(batch)

    def _drain_all(self) -> list[ChangeBatch]:
        # No lock: drains in other threads and processes claim other rows (SQLite: one
        # writer at a time), and a request must not wait for a poller's large batch.
        done = []
        while not self._closed:
            batch = self._drain_once()
            if batch is None:
                break
            done.append(batch)
        if done:
            # Settled once for all batches: an erasure of someone on 2,000 photos is one
            # purge of the index's files, not one per batch.
            merged = ChangeBatch()
            for batch in done:
                merged.merge(batch)
            self._settle(merged)
        return done

    def _drain_once(self) -> ChangeBatch | None:
        for attempt in range(_RETRIES + 1):
            try:
                with self.runtime.session(engine=self.engine, drain=False) as session:
                    batch = self._claim(session)
                    if batch is None:
                        return None
                    session.info[_DRAINING] = batch
                    for _, step in self.steps:
                        step.apply(session, batch)
                    session.commit()
                    return batch
            except OperationalError as exc:
                if not _is_conflict(exc) or attempt >= _RETRIES:
                    raise
                # Another drain wrote the same assets' verdicts: start over a little later
                # (at random, so that two drains do not collide again in step).
                time.sleep(random.uniform(0, _CONFLICT_BACKOFF_S * 2**attempt))
        return None  # pragma: no cover (the loop returns or raises)

    def _claim(self, session: Session) -> ChangeBatch | None:
        connection = session.connection()
        claim = (
            select(FEED.c.id, FEED.c.kind, FEED.c.subject_id, FEED.c.urgency)
            .order_by(FEED.c.id)
            .limit(BATCH)
        )
        if connection.dialect.name == "postgresql":
            claim = claim.with_for_update(skip_locked=True)
        rows = connection.execute(claim).all()
        if not rows:
            return None
        batch = ChangeBatch(rows=len(rows))
        for _, kind, subject, urgency in rows:
            batch.add(kind, [subject], urgency)
        connection.execute(delete(FEED).where(FEED.c.id.in_([row[0] for row in rows])))
        return batch

    def _settle(self, batch: ChangeBatch) -> None:
        for name, step in self.steps:
            try:
                step.settle(batch)
            except Exception:
                log.exception("change feed step %s could not settle a drain", name)

    def _wait_until_handled(self, low: int, high: int) -> None:
        """Rows in [low, high] still on the feed were claimed by another drainer that has
        not committed yet (PostgreSQL skips locked rows): wait for it, draining again in
        case it gave up, at most URGENT_WAIT_S."""
        deadline = time.monotonic() + URGENT_WAIT_S
        while time.monotonic() < deadline:
            with self.engine.connect() as connection:
                waiting = connection.execute(
                    select(FEED.c.id).where(FEED.c.id.between(low, high)).limit(1)
                ).first()
            if waiting is None:
                return
            time.sleep(0.02)
            self.drain()

    def _on_feed(self, asset_ids: list[str]) -> bool:
        with self.engine.connect() as connection:
            return (
                connection.execute(
                    select(FEED.c.id)
                    .where(FEED.c.kind.in_([ASSET, DOCUMENT]))
                    .where(among(FEED.c.subject_id, asset_ids, connection))
                    .limit(1)
                ).first()
                is not None
            )

    def backlog(self) -> int:
        """How many rows wait on the feed."""
        return self.lag()[0]

    def lag(self) -> tuple[int, datetime | None]:
        """How many rows wait on the feed, and when the oldest of them was recorded."""
        with self.engine.connect() as connection:
            count, oldest = connection.execute(
                select(func.count(), func.min(FEED.c.recorded_at))
            ).one()
        return count, oldest

    def warn_if_behind(self) -> None:
        """A warning in the log when rows wait longer than BACKLOG_WARNING_S after a drain:
        then a step keeps failing (or nothing drains), and verdicts or search are stale."""
        count, oldest = self.lag()
        if count and oldest is not None and (now() - oldest).total_seconds() > BACKLOG_WARNING_S:
            log.warning(
                "%d change(s) wait on the change feed since %s: verdicts or search documents "
                "are behind (dam doctor; dam check --verdicts --search)",
                count,
                oldest.isoformat(),
            )

    # --- the thread ----------------------------------------------------------------

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.drain()
            except OperationalError as exc:
                if not _is_conflict(exc):
                    log.exception("change feed drain failed; retrying in %.0f s", BACKOFF_S)
                else:  # expected beside busy drains; the rows wait on the feed
                    log.warning("change feed drain kept meeting other drains; retrying later")
                self._stop.wait(BACKOFF_S)
            except Exception:
                log.exception("change feed drain failed; retrying in %.0f s", BACKOFF_S)
                self._stop.wait(BACKOFF_S)

    def close(self) -> None:
        """Stop the thread and drain what is left (the sweep of another process would)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.drain()
        except Exception:
            log.exception("final change feed drain failed; the rows stay for later")
        self._closed = True


def _is_conflict(exc: OperationalError) -> bool:
    # 40001: serialization failure (REPEATABLE READ); 40P01: deadlock detected.
    return getattr(exc.orig, "sqlstate", None) in ("40001", "40P01")
