"""Which changes the change feed records: session hooks installed once on every session.

`before_flush` maps the rows a flush is about to write, `do_orm_execute` the bulk
UPDATE and DELETE statements (`session.exec(update(Face)...)`) that never pass through a
flush. Together they see every ORM write of these tables:

| table | recorded as |
|---|---|
| asset | the asset (deleted: removed from search before returning) |
| asset_tag, collection_asset, caption, usage | the asset |
| face | the asset, when a face comes, goes, or changes state or person |
| person | the person (name, hidden, minor); deleted: the assets of their faces |
| consent | its person (before and after, should it move) |
| collection | the collection (title); deleted: its members' documents |
| erasure_tombstone | every asset of the transaction is purged from the index's files |

Writes that bypass the ORM (`session.connection().execute`, `exec_driver_sql`) are not
seen: the verdict cache and the search marks, derived state written by the drain itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect, select, true
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

from dam import changes
from dam.changes import ASSET, COLLECTION, DOCUMENT, PERSON, REMOVE
from dam.models import (
    Asset,
    AssetTag,
    Caption,
    Collection,
    CollectionAsset,
    Consent,
    ErasureTombstone,
    Face,
    Person,
    Usage,
)

# Asset columns neither a verdict nor a search document reads (the pipeline writes them
# often; each would otherwise cost a drain). Anything else, new columns too, is recorded.
ASSET_IGNORED = frozenset(
    {"updated_at", "error", "error_message", "mime", "size", "sha256", "blurhash", "duration_s"}
    | {"phash", "phash_b0", "phash_b1", "phash_b2", "phash_b3"}
)
FACE_READ = frozenset({"asset_id", "state", "person_id"})
PERSON_READ = frozenset({"name", "hidden", "is_minor"})
COLLECTION_READ = frozenset({"title"})

_BY_ASSET = (AssetTag, CollectionAsset, Caption, Usage, Face)


def _relevant(cls: type, names: set[str] | None) -> bool:
    """Whether changing these columns of a `cls` row can change a verdict or document
    (None: columns unknown)."""
    if names is None:
        return True
    if cls is Asset:
        return bool(names - ASSET_IGNORED)
    if cls is Face:
        return bool(names & FACE_READ)
    if cls is Person:
        return bool(names & PERSON_READ)
    if cls is Collection:
        return bool(names & COLLECTION_READ)
    return True


class _Found:
    def __init__(self) -> None:
        self.by_kind: dict[tuple[str, int], set[str]] = {}

    def add(self, kind: str, subject: str | None, urgency: int = changes.FOLLOW) -> None:
        if subject:
            self.by_kind.setdefault((kind, urgency), set()).add(subject)

    def record(self, session: Session) -> None:
        for (kind, urgency), ids in sorted(self.by_kind.items()):
            changes.record(session, **{changes.KEYWORD[kind]: sorted(ids)}, urgency=urgency)


def _changed(obj: Any) -> set[str]:
    return {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}


def _before(obj: Any, name: str) -> list[Any]:
    """The values an attribute had before this flush's change (none if unchanged)."""
    return list(inspect(obj).attrs[name].history.deleted or ())


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    found = _Found()
    for obj in session.new:
        _map(session, found, obj, "new")
    for obj in session.dirty:
        if session.is_modified(obj):
            _map(session, found, obj, "dirty")
    for obj in session.deleted:
        _map(session, found, obj, "deleted")
    found.record(session)


def _map(session: Session, found: _Found, obj: Any, how: str) -> None:
    cls = type(obj)
    if how == "dirty" and not _relevant(cls, _changed(obj)):
        return
    if cls is Asset:
        found.add(ASSET, obj.id, REMOVE if how == "deleted" else changes.FOLLOW)
    elif cls in _BY_ASSET:
        found.add(ASSET, obj.asset_id)
        for earlier in _before(obj, "asset_id") if how == "dirty" else ():
            found.add(ASSET, earlier)
    elif cls is Consent:
        found.add(PERSON, obj.person_id)
        for earlier in _before(obj, "person_id") if how == "dirty" else ():
            found.add(PERSON, earlier)
    elif cls is Person:
        if how == "deleted":
            # Their faces lose them (ON DELETE SET NULL, unseen by any hook): now or never.
            faces = _table(Face)
            changes.record_query(
                session, ASSET, select(faces.c.asset_id).where(faces.c.person_id == obj.id)
            )
        elif how == "dirty":
            found.add(PERSON, obj.id)
    elif cls is Collection:
        if how == "deleted":
            members = _table(CollectionAsset)
            changes.record_query(
                session,
                DOCUMENT,
                select(members.c.asset_id).where(members.c.collection_id == obj.id),
            )
        elif how == "dirty":
            found.add(COLLECTION, obj.id)
    elif cls is ErasureTombstone and how == "new":
        changes.start_purging(session)


# --- bulk statements -------------------------------------------------------------------

_WATCHED = (Asset, *_BY_ASSET, Consent, Person, Collection)


def _table(cls: type) -> Any:
    return cls.__table__  # type: ignore[attr-defined]


def _bulk_subjects(cls: type, where: Any, deleting: bool) -> tuple[str, Any]:
    """What an UPDATE or DELETE of the `cls` rows matching `where` records: a kind and a
    one-column SELECT of subjects, run before the statement."""
    table = _table(cls)
    if cls is Asset:
        return ASSET, select(table.c.id).where(where)
    if cls is Consent:
        return PERSON, select(table.c.person_id).where(where)
    if cls is Person:
        people = select(table.c.id).where(where)
        if deleting:
            faces = _table(Face)
            return ASSET, select(faces.c.asset_id).where(faces.c.person_id.in_(people))
        return PERSON, people
    if cls is Collection:
        collections = select(table.c.id).where(where)
        if deleting:
            members = _table(CollectionAsset)
            return DOCUMENT, select(members.c.asset_id).where(
                members.c.collection_id.in_(collections)
            )
        return COLLECTION, collections
    return ASSET, select(table.c.asset_id).where(where)


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    cls = mapper.class_ if mapper is not None else None
    if cls not in _WATCHED:
        return
    statement = state.statement
    if state.is_update and not _relevant(cls, _set_columns(statement)):
        return
    where = statement.whereclause  # type: ignore[attr-defined]
    kind, subjects = _bulk_subjects(cls, where if where is not None else true(), state.is_delete)
    urgency = REMOVE if state.is_delete and cls is Asset else changes.FOLLOW
    changes.record_query(state.session, kind, subjects, urgency=urgency)  # type: ignore[arg-type]
    if state.is_update and cls is Consent:
        # A consent moved to another person concerns them too.
        moved = _set_values(statement).get("person_id")
        if isinstance(moved, str):
            changes.record(state.session, people=[moved])  # type: ignore[arg-type]


def _set_values(statement: Any) -> dict[str, Any]:
    values = getattr(statement, "_values", None) or {}
    return {getattr(key, "key", str(key)): getattr(v, "value", v) for key, v in values.items()}


def _set_columns(statement: Any) -> set[str] | None:
    if not getattr(statement, "_values", None):
        return None  # cannot tell (multi-row values): treated as relevant
    return set(_set_values(statement))


def watched_tables() -> Iterable[str]:
    """The tables whose changes the feed records (for docs and `dam doctor`)."""
    return sorted(_table(cls).name for cls in (*_WATCHED, ErasureTombstone))
