"""Copies an erasure takes along (art. 17: erased everywhere, not a day later).

Two kinds of copy would otherwise outlive an erasure by up to 24 hours:

- a selection ZIP still kept for its download (gdpr.publishing.download_batches) that
  holds a picture the erasure touches (unblurred, or with their name in its metadata),
  or whose manifest names them (a title, or a reason such as a withdrawn consent);
- the person's own access exports waiting for their download
  (gdpr.requests.export_files).

Such a ZIP is withdrawn: its row is marked expired with the reason (the API answers 410,
as for a ZIP removed after its day) and its file goes; a ZIP still being packed is
withdrawn the same way and its packer drops the file it finishes. The manifest kept in
the row loses the titles and reasons of those pictures, and any naming the person, in
every ZIP ever made. Exports are deleted with their jobs (404 afterwards).

Rows change in the erasure's transaction; the caller removes the files once it commits.
Ids only in the result (the erasure's audit entry lists them).

The database picks the rows (`holding_query`): every ZIP ever made is a row, and reading
them all into Python would grow with the years. It finds those whose asset list holds one
of the assets (searched in SQL: json_each on SQLite, jsonb ?| on PostgreSQL) or whose
manifest's text may name the person; Python then checks the name on those few exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    or_,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from dam import clock
from dam.blobs import BlobStore
from dam.models import DownloadBatch, Job
from gdpr.publishing import download_batches
from gdpr.requests.export_files import EXPORT_TASK, export_path

# Outcome fields that may name someone (asset_id, file and outcome do not).
_TEXT_FIELDS = ("title", "reason")


@dataclass
class Withdrawn:
    downloads: list[str] = field(default_factory=list)  # batches whose ZIP was withdrawn
    exports: list[str] = field(default_factory=list)  # export jobs deleted with their ZIP
    paths: list[Path] = field(default_factory=list)  # to remove once the erasure committed


def withdraw_copies(
    session: Session,
    blobs: BlobStore,
    *,
    person_id: str,
    asset_ids: Collection[str],
    name: str,
    pattern: re.Pattern[str] | None,
) -> Withdrawn:
    """Withdraw the ZIPs holding any of `asset_ids` or naming the person (`name`, found by
    `pattern`), and delete the person's access exports; the files to remove after the
    commit."""
    touched = set(asset_ids)
    withdrawn = Withdrawn()
    moment = clock.now()
    query = holding_query(session, touched, name if pattern is not None else "")
    for batch in session.exec(query):
        outcomes, named = _forget(batch.outcomes, touched, pattern)
        holds = named or not touched.isdisjoint(batch.asset_ids or [])
        if not holds:
            continue
        if named:
            batch.outcomes = outcomes  # a new list: the JSON column sees only that
        if batch.status != "expired":
            # Whatever the row says, the packer's file has this name (it may be writing
            # it now); the row's own path too, in case that ever differs.
            withdrawn.paths.append(download_batches.zip_dir(blobs) / f"{batch.id}.zip")
            if batch.path:
                withdrawn.paths.append(blobs.root / batch.path)
            download_batches.withdraw(batch, at=moment)
            withdrawn.downloads.append(batch.id)
        session.add(batch)
    exports = session.exec(
        select(Job).where(Job.person_id == person_id, col(Job.stage) == EXPORT_TASK)
    )
    for job in exports:
        withdrawn.paths.append(export_path(blobs, job.id))
        withdrawn.exports.append(job.id)
        session.delete(job)
    session.flush()
    return withdrawn


# The characters of a name that the JSON columns hold as they are, in any case the name
# is matched in: ASCII, but not the quote, the backslash (JSON escapes them) or i, k and s
# (re.IGNORECASE lets them match İ, ı, K and ſ, which JSON writes as \uXXXX escapes).
PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - set('"\\iksIKS')
# Shorter pieces of a name would match too many manifests to be worth a condition.
MIN_PIECE = 3


def name_pieces(name: str) -> list[str]:
    """Lower-case pieces of `name` found as they are in the JSON text of whatever the name
    matches (case-insensitively): its runs of PLAIN characters, the longer ones."""
    pieces, piece = [], ""
    for char in name.lower():
        if char in PLAIN:
            piece += char
        else:
            pieces.append(piece)
            piece = ""
    pieces.append(piece)
    return [p for p in pieces if len(p) >= MIN_PIECE]


def holding_query(
    session: Session, asset_ids: Collection[str], name: str
) -> SelectOfScalar[DownloadBatch]:
    """The download rows whose asset list holds one of `asset_ids`, or whose manifest may
    name the person: every such row, and seldom another (`_forget` decides)."""
    named: ColumnElement[bool] = false()
    if name.strip():
        # No piece (a short name): every row, as the name may be in any of them.
        text = func.lower(cast(DownloadBatch.outcomes, Text))
        named = and_(true(), *(text.contains(p, autoescape=True) for p in name_pieces(name)))
    holds = _holds_any(session, sorted(asset_ids)) if asset_ids else false()
    return select(DownloadBatch).where(or_(holds, named))


def _holds_any(session: Session, asset_ids: list[str]) -> ColumnElement[bool]:
    """Whether the row's JSON list of asset ids holds any of `asset_ids` (given as one
    parameter, so any number of them fit in one statement)."""
    if session.get_bind().dialect.name == "postgresql":
        # jsonb's own "any of these strings" (4x faster than unnesting the list).
        listed = cast(DownloadBatch.asset_ids, postgresql.JSONB)
        return listed.has_any(bindparam("asset_ids", asset_ids, type_=ARRAY(Text)))
    held = func.json_each(DownloadBatch.asset_ids).table_valued("value")
    given = func.json_each(literal(json.dumps(asset_ids), Text)).table_valued("value")
    inside = select(literal(1)).select_from(held).where(held.c.value.in_(select(given.c.value)))
    return inside.exists()


def _forget(
    outcomes: list[dict[str, Any]] | None, touched: set[str], pattern: re.Pattern[str] | None
) -> tuple[list[dict[str, Any]] | None, bool]:
    """The manifest without the titles and reasons of touched assets and any naming the
    person; whether anything changed."""
    if not outcomes:
        return outcomes, False
    changed = False
    kept = []
    for row in outcomes:
        new = dict(row)
        for name in _TEXT_FIELDS:
            text = new.get(name)
            named = pattern is not None and pattern.search(str(text or "")) is not None
            if text and (row.get("asset_id") in touched or named):
                new[name] = ""
                changed = True
        kept.append(new)
    return kept, changed
