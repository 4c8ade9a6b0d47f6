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
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

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
    pattern: re.Pattern[str] | None,
) -> Withdrawn:
    """Withdraw the ZIPs holding any of `asset_ids` or naming the person (`pattern`), and
    delete the person's access exports; the files to remove after the commit."""
    touched = set(asset_ids)
    withdrawn = Withdrawn()
    moment = clock.now()
    for batch in session.exec(select(DownloadBatch)):
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
