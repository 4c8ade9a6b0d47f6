"""Selections downloaded as one ZIP: asking for one (a job packs it, see
gdpr/publishing/download_packing.py), following its progress, fetching the file while it is kept
(KEEP, a day), and removing it afterwards, or earlier when someone in it is erased
(gdpr/requests/erasure_copies.py)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from dam import audit, clock, jobs
from dam.blobs import BlobStore
from dam.errors import N_, Conflict, Gone, InvalidInput, Message, N_plural, NotFound
from dam.messages import failure_of, record_failure
from dam.models import Asset, DownloadBatch, User
from dam.runtime import Runtime
from dam.settings import Settings
from gdpr.publishing import delivery, egress

KEEP = timedelta(hours=24)
ZIP_TASK = "pack_download"
ZIP_DIR = Path("cache", "downloads")
# The row's `error` of a ZIP withdrawn before its day was over (the API's message too).
WITHDRAWN = N_("This download was removed because someone in it was erased; ask for it again.")


class BatchInput(BaseModel):
    model_config = {"extra": "forbid"}

    asset_ids: list[str] = Field(min_length=1, max_length=5000)
    channel: str = Field(min_length=1, max_length=32)
    preset: str = Field("web", max_length=32)
    redact: bool = False


def zip_dir(blobs: BlobStore) -> Path:
    path = blobs.root / ZIP_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_batch(
    session: Session, *, data: BatchInput, actor: User, settings: Settings, lang: str | None = None
) -> DownloadBatch:
    """Ask for a ZIP of `data.asset_ids`; a job packs it (202 at the API), its manifest and
    README in `lang` (the page's or the API caller's language; else the requester's)."""
    egress.require_channel(settings, data.channel)
    if data.preset == "original":
        raise InvalidInput("A ZIP holds downloads in a preset, not originals.")
    delivery.spec_for(delivery.Options(preset=data.preset), settings)  # a known preset
    ids = list(dict.fromkeys(data.asset_ids))
    if len(ids) > settings.download_zip_max_assets:
        raise InvalidInput(
            N_plural(
                "A ZIP holds at most %(num)s asset; this selection has %(selected)s.",
                "A ZIP holds at most %(num)s assets; this selection has %(selected)s.",
            ),
            params={"num": settings.download_zip_max_assets, "selected": len(ids)},
        )
    if session.exec(select(Asset.id).where(col(Asset.id).in_(ids[:200]))).first() is None:
        raise InvalidInput("None of these assets exists.")
    batch = DownloadBatch(
        user_id=actor.id,
        channel=data.channel,
        preset=data.preset,
        redact=data.redact,
        asset_ids=ids,
        total=len(ids),
        expires_at=clock.now() + KEEP,
    )
    session.add(batch)
    session.flush()
    audit.record(
        session,
        action="download.archive_requested",
        actor_id=actor.id,
        subject_type="download",
        subject_id=batch.id,
        details={"channel": batch.channel, "preset": batch.preset, "assets": len(ids)},
    )
    # About the batch, no one asset: deleting any of them leaves the job (and the ZIP,
    # which says the deleted one was not found).
    params = {"batch_id": batch.id, **({"lang": lang} if lang else {})}
    jobs.schedule(session, stage=ZIP_TASK, params=params)
    session.commit()
    session.refresh(batch)
    return batch


def get_batch(session: Session, batch_id: str, user: User) -> DownloadBatch:
    """The batch if `user` asked for it (404 for anyone else, as for no batch)."""
    batch = session.get(DownloadBatch, batch_id)
    if batch is None or batch.user_id != user.id:
        raise NotFound("There is no download with this id.")
    return batch


def finished_file(
    session: Session, blobs: BlobStore, batch_id: str, user: User
) -> tuple[DownloadBatch, Path]:
    batch = get_batch(session, batch_id, user)
    if batch.status == "expired" and batch.error == WITHDRAWN:
        raise Gone(
            "This download was removed because someone in it was erased; ask for it again.",
            reason="erased",
        )
    if batch.expires_at <= clock.now() or batch.status == "expired":
        raise Gone("This download was removed after a day; ask for it again.", reason="expired")
    if batch.status == "failed":
        why = failure_of(batch) or Message(N_("This download could not be made."))
        raise Conflict(why.id, params=why.params)
    if batch.status != "done" or not batch.path:
        raise Conflict("This download is not ready yet.", progress=progress(batch))
    path = blobs.root / batch.path
    if not path.is_file():
        raise Gone("This download is no longer there; ask for it again.", reason="expired")
    return batch, path


def progress(batch: DownloadBatch) -> float:
    return round(batch.done / batch.total, 3) if batch.total else 1.0


def withdraw(batch: DownloadBatch, *, at: datetime) -> None:
    """Mark the batch removed before its day is over (the caller removes its file); a
    packer still at work sees that and drops what it made."""
    batch.status, batch.path = "expired", None
    record_failure(batch, Message(WITHDRAWN))
    batch.expires_at = min(batch.expires_at, at)


def prune(rt: Runtime) -> None:
    """The periodic task: ZIPs older than KEEP go, with their rows' file."""
    with rt.unit_of_work() as session:
        old = session.exec(
            select(DownloadBatch).where(
                col(DownloadBatch.expires_at) <= clock.now(), DownloadBatch.status != "expired"
            )
        ).all()
        for batch in old:
            if batch.path:
                with contextlib.suppress(OSError):
                    (rt.blobs.root / batch.path).unlink()
            batch.status, batch.path = "expired", None
            session.add(batch)
