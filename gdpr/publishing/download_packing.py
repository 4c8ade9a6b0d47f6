"""The job that packs a selection as one ZIP: every file through the gate (judged and
audited one by one, as a single download would be), written straight into the archive
on disk (never the archive in memory), then `manifest.csv` saying what happened to every
asset and why, in the language the ZIP was asked in (the wiring's translator: web's
catalogs), and a README in that language first and then in the other."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlmodel import Session, col, update

from dam import clock, messages
from dam.errors import N_, DomainError, Message, N_plural, join_messages
from dam.jobs import StageContext
from dam.messages import failure_columns
from dam.models import Asset, AssetKind, DownloadBatch, User
from dam.presets import PRESET_LABELS
from gdpr import gate
from gdpr.judgement.verdict_text import LANGUAGES, channel_label
from gdpr.publishing import delivery, download_batches

# Files made at the same time, and how many may be made ahead of the archive: each worker
# holds one decoded picture (the large rendition: at most 2560 x 2560 x 4 bytes, 26 MB)
# and its output while it works, so memory stays the same whatever the selection's size.
WORKERS = 2
AHEAD = 2 * WORKERS
PROGRESS_EVERY = 0.5  # seconds between two progress writes (the last file always)
# Why a ZIP failed when nothing said why (the traceback is in the job's log entry).
PACKING_FAILED = N_(
    "Something went wrong on the server while packing it. Ask for it again, and tell an "
    "administrator if it fails again."
)
INCLUDED, REDACTED, LEFT_OUT, MISSING = "included", "redacted", "left_out", "not_found"
# What happened to each asset (the manifest's result column, the ZIP's page).
OUTCOME_LABELS = {
    INCLUDED: N_("included"),
    REDACTED: N_("included, faces blurred"),
    LEFT_OUT: N_("left out"),
    MISSING: N_("not found"),
}
# The manifest's columns (the API's outcome keys) and their headings.
COLUMNS = {
    "asset_id": N_("Beeldbank id"),
    "title": N_("Title"),
    "file": N_("File"),
    "outcome": N_("Result"),
    "reason": N_("Reason"),
}
BLURRING = N_("The version with blurred faces is still being made; ask for the ZIP again later.")
# The README, a line (or paragraph) per message, in the requester's language.
README_TITLE = N_("Beeldbank – download")
README_INTRO = N_plural(
    "%(num)s picture was asked for, for the channel “%(channel)s” in the size “%(preset)s”; "
    "this ZIP holds %(included)s.",
    "%(num)s pictures were asked for, for the channel “%(channel)s” in the size "
    "“%(preset)s”; this ZIP holds %(included)s of them.",
)
README_METADATA = N_(
    "Every file carries its title, description, alt text, creators, rights and licence as "
    "XMP (and IPTC/EXIF where the format has them); GPS positions and device serial numbers "
    "were removed."
)
README_MANIFEST = N_("manifest.csv says per picture what happened to it:")
README_OUTCOMES = {
    INCLUDED: N_("cleared for this channel"),
    REDACTED: N_("whoever gave no consent for this channel was made unrecognisable"),
    LEFT_OUT: N_("the column “%(reason)s” says why"),
    MISSING: N_("this picture does not exist (any more) or you may not see it"),
}
README_USE = N_(
    "Use the pictures for the chosen channel only. This download is removed after 24 hours."
)
README_MADE = N_("Made on %(made)s (UTC).")


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
        lang = requester_language(ctx.params.get("lang"), user)
        translate = messages.translator(ctx.runtime.wiring)
        say = partial(translate, lang)
        job = _Job(ctx, batch.channel, batch.preset, batch.redact, user.id, lang, say)
        asset_ids, total, included = list(batch.asset_ids), max(1, batch.total), 0
        # Conditional, as every write of the batch's state here: an erasure may withdraw
        # it at any moment (gdpr/requests/erasure_copies.py), and that must stand.
        started = session.exec(
            update(DownloadBatch)
            .where(
                col(DownloadBatch.id) == batch_id,
                col(DownloadBatch.status).in_(("queued", "running")),
            )
            .values(status="running", done=0, included=0)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if started.rowcount != 1:
            return
        target_dir = download_batches.zip_dir(ctx.blobs)
        fd, name = tempfile.mkstemp(dir=target_dir, prefix=".part-", suffix=".zip")
        os.close(fd)
        part = Path(name)
        outcomes: list[dict[str, str]] = []
        reported = -math.inf
        try:
            with (
                zipfile.ZipFile(part, "w", zipfile.ZIP_STORED, allowZip64=True) as archive,
                ThreadPoolExecutor(WORKERS, thread_name_prefix="zip") as pool,
                # Files are made WORKERS at a time (Pillow lets go of the GIL while it
                # decodes, scales and encodes), at most AHEAD ahead of the archive, and
                # written in order, each once it is made.
                contextlib.closing(
                    made_in_order(pool, job.make, enumerate(asset_ids, start=1))
                ) as made,
            ):
                for number, (outcome, path, temporary) in enumerate(made, start=1):
                    if path is not None:
                        try:
                            archive.write(path, outcome["file"])
                        finally:
                            if temporary:
                                path.unlink(missing_ok=True)
                    outcomes.append(outcome)
                    included += outcome["outcome"] in (INCLUDED, REDACTED)
                    # A short write now and then (and for the last file); never a read of
                    # `batch` between two files: on SQLite that would hold the write lock
                    # the workers' audits need.
                    if number == len(asset_ids) or time.monotonic() - reported >= PROGRESS_EVERY:
                        reported = time.monotonic()
                        session.exec(
                            update(DownloadBatch)
                            .where(col(DownloadBatch.id) == batch_id)
                            .values(done=number, included=included)
                            .execution_options(synchronize_session=False)
                        )
                        session.commit()
                        ctx.report_progress(number / total)
                archive.writestr("manifest.csv", manifest(outcomes, say))
                archive.writestr("README.txt", readme(batch, included, lang, translate))
            final = target_dir / f"{batch.id}.zip"
            os.replace(part, final)
        except BaseException as exc:
            part.unlink(missing_ok=True)
            message = Message.of(exc) if isinstance(exc, DomainError) else Message(PACKING_FAILED)
            _settle(session, batch_id, status="failed", **failure_columns(message))
            raise
        finished = _settle(
            session,
            batch_id,
            status="done",
            finished_at=clock.now(),
            path=str(final.relative_to(ctx.blobs.root)),
            size=final.stat().st_size,
            outcomes=outcomes,
        )
        if not finished:
            # Withdrawn while it was packed (someone in it was erased): the file goes too.
            final.unlink(missing_ok=True)


def _settle(session: Session, batch_id: str, **values: object) -> bool:
    """Record the batch's end unless it was withdrawn meanwhile (then False): a write
    conditional on `running`, never the row read at the start over a withdrawal."""
    result = session.exec(
        update(DownloadBatch)
        .where(col(DownloadBatch.id) == batch_id, col(DownloadBatch.status) == "running")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)


_Item = tuple[int, str]  # the file's number in the archive, its asset id
_Made = tuple[dict[str, str], Path | None, bool]  # the manifest row, the file, temporary


@dataclass(frozen=True)
class _Job:
    """What each worker needs to make one file (a session of its own per file)."""

    ctx: StageContext
    channel: str
    preset: str
    redact: bool
    user_id: str
    lang: str  # the requester's: every reason is written in it
    say: Callable[[Message], str]

    def make(self, item: _Item) -> _Made:
        number, asset_id = item
        with self.ctx.session() as session:
            user = session.get(User, self.user_id)
            assert user is not None
            return self._release(session, user, number, asset_id)

    def _release(self, session: Session, user: User, number: int, asset_id: str) -> _Made:
        """One asset through the gate: what happened to it, and its file if any."""
        asset = session.get(Asset, asset_id)
        is_photo = asset is not None and AssetKind(asset.kind) == AssetKind.image
        options = delivery.Options(preset=self.preset) if is_photo else None
        # Untitled: its file name, as the library shows it (not a bare id in the list).
        title = (asset.title or asset.filename) if asset else ""
        row = {"asset_id": asset_id, "title": title, "file": ""}
        refusal = ""
        for redact in [False, True] if self.redact else [False]:
            ask = gate.ChannelDownload(asset_id, self.channel, redact=redact, options=options)
            try:
                released = gate.release(
                    session,
                    ask,
                    by=user,
                    settings=self.ctx.settings,
                    blobs=self.ctx.blobs,
                    lang=self.lang,
                )
            except DomainError as exc:
                session.rollback()
                if exc.status == 404:
                    return {**row, "title": "", "outcome": MISSING, "reason": ""}, None, False
                refusal = refusal or _reason(exc, self.say)
                continue
            if released.pending is not None or released.path is None:
                refusal = self.say(Message(BLURRING))
                continue
            name = f"{number:03d}-{released.filename or asset_id}"
            outcome = REDACTED if redact else INCLUDED
            return (
                {**row, "file": name, "outcome": outcome, "reason": ""},
                released.path,
                released.temporary,
            )
        return {**row, "outcome": LEFT_OUT, "reason": refusal}, None, False


def made_in_order(
    pool: ThreadPoolExecutor, make: Callable[[_Item], _Made], items: Iterable[_Item]
) -> Generator[_Made, None, None]:
    """make(item) for every item, run in `pool` with at most AHEAD made or being made
    ahead of the one handed out, in the items' order. On the way out (a failure, or the
    archive given up), what was made ahead and not handed out is removed."""
    waiting: deque[Future[_Made]] = deque()
    try:
        for item in items:
            waiting.append(pool.submit(make, item))
            if len(waiting) >= AHEAD:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()
    finally:
        for future in waiting:
            if future.cancel():
                continue
            with contextlib.suppress(Exception):
                _, path, temporary = future.result()
                if path is not None and temporary:
                    path.unlink(missing_ok=True)


def requester_language(asked: object, user: User) -> str:
    """The language the ZIP was asked in (its job's params), else the requester's own."""
    for lang in (asked, user.locale):
        if lang in LANGUAGES:
            return str(lang)
    return LANGUAGES[0]


def _reason(exc: DomainError, say: Callable[[Message], str]) -> str:
    """Why the gate refused: the verdict's reasons (described in the requester's language
    by the gate), else the refusal itself."""
    reasons = exc.details.get("reasons") or []
    messages = [str(r.get("message")) for r in reasons if isinstance(r, dict) and r.get("message")]
    return join_messages(messages) or say(Message.of(exc))


def manifest(outcomes: list[dict[str, str]], say: Callable[[Message], str]) -> str:
    """manifest.csv: a row per asset, its headings and results in the requester's language."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([say(Message(heading)) for heading in COLUMNS.values()])
    for row in outcomes:
        result = say(Message(OUTCOME_LABELS.get(row["outcome"], row["outcome"])))
        writer.writerow([*(row[key] for key in list(COLUMNS)[:3]), result, row["reason"]])
    return out.getvalue()


# Between the README's languages.
README_SEPARATOR = "\n" + "-" * 72 + "\n\n"


def readme(
    batch: DownloadBatch,
    included: int,
    lang: str,
    translate: Callable[[str, Message], str],
) -> str:
    """README.txt: in the requester's language, then in the other (Dutch and English: a
    ZIP is passed on, and its next reader may read the other one)."""
    order = [lang, *(other for other in LANGUAGES if other != lang)]
    return README_SEPARATOR.join(
        _readme_in(batch, included, language, partial(translate, language)) for language in order
    )


def _readme_in(
    batch: DownloadBatch, included: int, lang: str, say: Callable[[Message], str]
) -> str:
    title = say(Message(README_TITLE))
    preset = PRESET_LABELS.get(batch.preset)
    values = {
        "included": included,
        "num": batch.total,
        "channel": channel_label(batch.channel, lang),
        "preset": say(Message(preset)) if preset else batch.preset,
    }
    reason = say(Message(COLUMNS["reason"]))
    lines = [
        title,
        "=" * len(title),
        "",
        say(Message(README_INTRO, values)),
        say(Message(README_METADATA)),
        "",
        say(Message(README_MANIFEST)),
    ]
    for outcome, meaning in README_OUTCOMES.items():
        label = say(Message(OUTCOME_LABELS[outcome]))
        lines.append(f"  {label}: {say(Message(meaning, {'reason': reason}))}")
    made = clock.now().strftime("%Y-%m-%d %H:%M")
    lines += ["", say(Message(README_USE)), "", say(Message(README_MADE, {"made": made})), ""]
    return "\n".join(lines)
