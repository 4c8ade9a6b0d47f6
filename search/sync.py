"""The index follows the database: dirty marks from any process, one batching writer.

The change feed's drains (search/feed.py) mark changed asset ids in the `search_dirty`
table (durable, shared by every process and machine) and wake this process's writer
thread. The writer that holds
the lease (search.lease) gathers marks for a moment, rebuilds their documents from the
database and writes them in one commit, so a change is searchable within a second.
Processes that do not hold the lease only mark; the holder polls the table for marks
made elsewhere. Deletions are flushed at once, before the request that deleted returns.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session

from search import dirty, lease
from search.backend import BackendWriter, SearchBackend, WriterBusy
from search.document import SearchDocument, build_document
from search.facts import FactsProvider, load_facts

log = logging.getLogger(__name__)

BATCH = 1000  # documents per index commit when catching up
POLL_S = 0.5  # how often the writer looks for marks made by other processes
LEASE_TTL_S = 10.0  # a writer that stops renewing is replaced after this long
BACKOFF_S = 5.0  # after a failing cycle (Meilisearch down, database away)

_counter = itertools.count(1)


class IndexSync:
    """Keeps one runtime's index following its database."""

    def __init__(
        self,
        *,
        engine: Engine,
        sessions: Callable[[], Session],
        backend: Callable[[], SearchBackend],
        zone: str,
        gather_s: float,
        providers: Callable[[], Mapping[str, FactsProvider]] = dict,
    ) -> None:
        self.engine = engine  # the dirty marks and the lease: plain statements, no events
        self.sessions = sessions  # the runtime's sessions, for reading facts
        self._providers = providers
        self._backend = backend
        self.zone = zone
        self.gather_s = gather_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{next(_counter)}"
        self._lock = threading.RLock()  # one drain at a time: writer thread, flush, reindex
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._writer: BackendWriter | None = None
        self._closed = False

    # --- marking ------------------------------------------------------------------------

    def mark(self, asset_ids: Iterable[str], *, urgent: bool = False) -> None:
        """Record that these assets' documents are out of date; `urgent` waits for the index."""
        ids = list(asset_ids)
        if self._closed or not ids:
            return
        dirty.mark(self.engine, ids)
        if urgent:
            if not self.flush(ids):
                log.warning("search index did not confirm %d urgent change(s) in time", len(ids))
            return
        self.wake()

    def wake(self) -> None:
        """Marks were committed: let the writer thread (started if need be) index them."""
        if self._closed:
            return
        self.start()
        self._wake.set()

    def flush(self, asset_ids: Sequence[str] | None = None, *, timeout: float = 10.0) -> bool:
        """Wait until the given marks (or all) are in the index; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._lead():
                    self._drain()
            if asset_ids is not None:
                left = bool(dirty.still_dirty(self.engine, list(asset_ids)))
            else:
                left = dirty.backlog(self.engine)[0] > 0
            if not left:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)  # another process writes: give it its turn

    def purge(self, asset_ids: Iterable[str]) -> int:
        """Index these assets now and leave no older copy of their documents in the index's
        storage (GDPR art. 17: an erased person's name); returns the documents written."""
        ids = list(dict.fromkeys(asset_ids))
        if self._closed:
            return 0
        with self.exclusive_writer() as writer:
            # Their marks (the change feed's drain made them) are covered by the purge,
            # which writes these assets itself: once, not once more by the drain below.
            # So is every other mark: the purge re-adds other documents as the index holds
            # them, and a marked one may be older than the database (and still show the
            # name), so those are written from the database as well.
            marks = dirty.oldest(self.engine, 10**9)
            pending = [asset_id for asset_id, _ in marks]
            written = writer.purge(list(dict.fromkeys([*ids, *pending])), self.documents_for)
            dirty.remove(self.engine, marks)
            self._drain()
            return written

    # --- the writer thread --------------------------------------------------------------

    def start(self) -> None:
        """Start this process's writer thread (once); it writes only while it holds the lease.

        Its own lock, not the drain lock: marking must never wait for a drain to finish."""
        with self._start_lock:
            if self._closed or (self._thread is not None and self._thread.is_alive()):
                return
            if self._thread is not None:
                # Whatever ended it, the index must go on following the database.
                log.warning("the search index writer had stopped; starting it again")
            self._thread = threading.Thread(target=self._run, name="search-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            woken = self._wake.wait(POLL_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            if woken:
                # Let a burst of changes (an import, a bulk edit) gather into one commit.
                self._stop.wait(self.gather_s)
            try:
                with self._lock:
                    if self._lead():
                        self._drain()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:
                # A panic in Tantivy (pyo3's PanicException) is no Exception, and must not
                # end the writer for good either. On a full disk (Tantivy's ValueError "No
                # space left on device", the database's own error) the marks stay, and
                # once there is space the next cycle opens a fresh writer and catches up.
                log.exception("search index sync failed; retrying in %.0f s", BACKOFF_S)
                with self._lock:
                    self._drop_writer()
                self._stop.wait(BACKOFF_S)

    def _lead(self, *, fill_if_empty: bool = True) -> bool:
        """Hold (or renew) the lease and the backend writer; False when another process does."""
        if self._closed:
            return False
        if not lease.acquire(self.engine, self.holder, LEASE_TTL_S):
            self._drop_writer()
            return False
        if self._writer is None:
            backend = self._backend()
            try:
                self._writer = backend.open_writer()
            except WriterBusy:
                return False  # the previous holder is letting go; try on the next cycle
            if fill_if_empty and backend.count() == 0 and (marked := dirty.mark_all(self.engine)):
                log.info("search index is empty: indexing all %d assets", marked)
        return True

    def _drop_writer(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.close()
            except Exception:
                log.exception("closing the search index writer failed")

    def _drain(self) -> int:
        """Index every dirty asset, in batches of one commit each; returns how many."""
        writer = self._writer
        assert writer is not None
        done = 0
        while True:
            rows = dirty.oldest(self.engine, BATCH)
            if not rows:
                return done
            ids = [asset_id for asset_id, _ in rows]
            documents, gone = self.documents_for(ids)
            writer.upsert(documents)
            writer.delete(gone)
            writer.commit()
            dirty.remove(self.engine, rows)
            done += len(rows)
            if len(rows) < BATCH:
                return done

    def documents_for(self, asset_ids: Sequence[str]) -> tuple[list[SearchDocument], list[str]]:
        """Current documents of the assets that exist, and the ids of those that do not."""
        with self.sessions() as session:
            facts = load_facts(session, asset_ids, self._providers())
        documents, gone = [], []
        for asset_id in asset_ids:
            if asset_id not in facts:
                gone.append(asset_id)
                continue
            try:
                documents.append(build_document(facts[asset_id], zone=self.zone))
            except Exception:
                # One malformed asset must not stall the index for everyone; it is left
                # out (and `dam check --search` lists it as missing).
                log.exception("could not build the search document of asset %s", asset_id)
        return documents, gone

    @contextmanager
    def exclusive_writer(self, *, wait_s: float = 30.0) -> Iterator[BackendWriter]:
        """The index writer for a rebuild: takes the lease over from whichever process holds it."""
        deadline = time.monotonic() + wait_s
        with self._lock:
            while True:
                lease.acquire(self.engine, self.holder, LEASE_TTL_S, take_over=True)
                if self._lead(fill_if_empty=False):  # the rebuild fills it
                    break
                if time.monotonic() > deadline:
                    raise WriterBusy(
                        "the process that writes the search index did not let go in time"
                    )
                time.sleep(0.2)  # the previous holder notices at its next cycle
            assert self._writer is not None
            yield self._writer

    def close(self) -> None:
        """Stop the writer thread; index what is left when we hold the lease, then let go."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._lock:
            if self._writer is not None:
                try:
                    self._drain()
                except Exception:
                    log.exception("final search index flush failed; the marks stay for later")
                self._drop_writer()
                lease.release(self.engine, self.holder)
            self._closed = True
