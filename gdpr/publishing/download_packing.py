"""The job that packs a selection as one ZIP: every file through the gate (judged and
audited one by one, as a single download would be), written straight into the archive
on disk (never the archive in memory), then `manifest.csv` and a README in Dutch and
English saying what happened to every asset and why."""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, update

from dam import clock
from dam.errors import N_, DomainError, Message
from dam.jobs import StageContext
from dam.messages import record_failure
from dam.models import Asset, AssetKind, DownloadBatch, User
from gdpr import gate
from gdpr.publishing import delivery, download_batches

WORKERS = 2  # files made at the same time
# Why a ZIP failed when nothing said why (the traceback is in the job's log entry).
PACKING_FAILED = N_(
    "Something went wrong on the server while packing it. Ask for it again, and tell an "
    "administrator if it fails again."
)
INCLUDED, REDACTED, LEFT_OUT, MISSING = "included", "redacted", "left_out", "not_found"
README = """Beeldbank – download
=====================

NEDERLANDS
Deze map bevat {included} van de {total} gevraagde beelden voor het kanaal
"{channel}" in het formaat "{preset}". Elk bestand bevat titel, beschrijving,
alternatieve tekst, makers, rechten en licentie als XMP (en IPTC/EXIF waar het
formaat dat kent); GPS-posities en serienummers van toestellen zijn verwijderd.
In manifest.csv staat per beeld wat er gebeurde:
  included   = toegevoegd (vrijgegeven voor dit kanaal)
  redacted   = toegevoegd met vervaagde gezichten (geen toestemming voor dit kanaal)
  left_out   = niet toegevoegd; de kolom reason zegt waarom
  not_found  = dit beeld bestaat niet (meer) of je mag het niet zien
Gebruik de beelden alleen voor het gekozen kanaal. Deze download wordt na 24 uur
verwijderd.

ENGLISH
This folder holds {included} of the {total} requested pictures for the channel
"{channel}" in the "{preset}" preset. Every file carries its title, description,
alt text, creators, rights and licence as XMP (and IPTC/EXIF where the format has
them); GPS positions and device serial numbers were removed. manifest.csv says
per picture what happened:
  included   = added (cleared for this channel)
  redacted   = added with faces blurred (no consent for this channel)
  left_out   = not added; the reason column says why
  not_found  = this picture does not exist (any more) or you may not see it
Use the pictures for the chosen channel only. This download is removed after
24 hours.

Made on {made} (UTC).
"""


def pack_download(ctx: StageContext) -> None:
    """The ZIP_TASK job for the batch in `ctx.params`."""
    batch_id = str(ctx.params.get("batch_id", ""))
    with ctx.session() as session:
        batch = session.get(DownloadBatch, batch_id)
        if batch is None or batch.status not in ("queued", "running"):
            return
        user = session.get(User, batch.user_id)
        if user is None:
            return
        # Everything the workers need, read before the commit: afterwards a read of `batch`
        # would open a transaction (on SQLite the write lock) while the workers audit.
        job = _Job(ctx, batch.channel, batch.preset, batch.redact, user.id)
        asset_ids, total, included = list(batch.asset_ids), max(1, batch.total), 0
        batch.status, batch.done, batch.included = "running", 0, 0
        session.add(batch)
        session.commit()
        target_dir = download_batches.zip_dir(ctx.blobs)
        fd, name = tempfile.mkstemp(dir=target_dir, prefix=".part-", suffix=".zip")
        os.close(fd)
        part = Path(name)
        outcomes: list[dict[str, str]] = []
        try:
            with (
                zipfile.ZipFile(part, "w", zipfile.ZIP_STORED, allowZip64=True) as archive,
                ThreadPoolExecutor(WORKERS, thread_name_prefix="zip") as pool,
            ):
                # Files are made WORKERS at a time (Pillow lets go of the GIL while it
                # decodes, scales and encodes) and written in order, each once it is made.
                made = pool.map(job.make, enumerate(asset_ids, start=1))
                for number, (outcome, path, temporary) in enumerate(made, start=1):
                    if path is not None:
                        try:
                            archive.write(path, outcome["file"])
                        finally:
                            if temporary:
                                path.unlink(missing_ok=True)
                    outcomes.append(outcome)
                    included += outcome["outcome"] in (INCLUDED, REDACTED)
                    # One short write per file; never a read of `batch` between two files:
                    # on SQLite that would hold the write lock the workers' audits need.
                    session.exec(
                        update(DownloadBatch)
                        .where(col(DownloadBatch.id) == batch_id)
                        .values(done=number, included=included)
                        .execution_options(synchronize_session=False)
                    )
                    session.commit()
                    ctx.report_progress(number / total)
                archive.writestr("manifest.csv", _manifest(outcomes))
                archive.writestr("README.txt", _readme(batch))
            final = target_dir / f"{batch.id}.zip"
            os.replace(part, final)
        except BaseException as exc:
            part.unlink(missing_ok=True)
            batch.status = "failed"
            record_failure(
                batch, Message.of(exc) if isinstance(exc, DomainError) else Message(PACKING_FAILED)
            )
            session.add(batch)
            session.commit()
            raise
        batch.status, batch.finished_at = "done", clock.now()
        batch.path = str(final.relative_to(ctx.blobs.root))
        batch.size = final.stat().st_size
        batch.outcomes = outcomes
        session.add(batch)
        session.commit()


@dataclass(frozen=True)
class _Job:
    """What each worker needs to make one file (a session of its own per file)."""

    ctx: StageContext
    channel: str
    preset: str
    redact: bool
    user_id: str

    def make(self, item: tuple[int, str]) -> tuple[dict[str, str], Path | None, bool]:
        number, asset_id = item
        with self.ctx.session() as session:
            user = session.get(User, self.user_id)
            assert user is not None
            return self._release(session, user, number, asset_id)

    def _release(
        self, session: Session, user: User, number: int, asset_id: str
    ) -> tuple[dict[str, str], Path | None, bool]:
        """One asset through the gate: what happened to it, and its file if any."""
        asset = session.get(Asset, asset_id)
        is_photo = asset is not None and AssetKind(asset.kind) == AssetKind.image
        options = delivery.Options(preset=self.preset) if is_photo else None
        row = {"asset_id": asset_id, "title": asset.title if asset else "", "file": ""}
        refusal = ""
        for redact in [False, True] if self.redact else [False]:
            ask = gate.ChannelDownload(asset_id, self.channel, redact=redact, options=options)
            try:
                released = gate.release(
                    session, ask, by=user, settings=self.ctx.settings, blobs=self.ctx.blobs
                )
            except DomainError as exc:
                session.rollback()
                if exc.status == 404:
                    return {**row, "title": "", "outcome": MISSING, "reason": ""}, None, False
                refusal = refusal or _reason(exc)
                continue
            if released.pending is not None or released.path is None:
                refusal = (
                    "De versie met vervaagde gezichten wordt nog gemaakt; vraag later opnieuw."
                )
                continue
            name = f"{number:03d}-{released.filename or asset_id}"
            outcome = REDACTED if redact else INCLUDED
            return (
                {**row, "file": name, "outcome": outcome, "reason": ""},
                released.path,
                released.temporary,
            )
        return {**row, "outcome": LEFT_OUT, "reason": refusal}, None, False


def _reason(exc: DomainError) -> str:
    reasons = exc.details.get("reasons") or []
    messages = [str(r.get("message")) for r in reasons if isinstance(r, dict) and r.get("message")]
    return "; ".join(messages) or exc.message


def _manifest(outcomes: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["asset_id", "title", "file", "outcome", "reason"])
    writer.writeheader()
    writer.writerows(outcomes)
    return out.getvalue()


def _readme(batch: DownloadBatch) -> str:
    return README.format(
        included=batch.included,
        total=batch.total,
        channel=batch.channel,
        preset=batch.preset,
        made=clock.now().strftime("%Y-%m-%d %H:%M"),
    )
