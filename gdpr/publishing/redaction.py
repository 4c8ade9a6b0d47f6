"""Redacted downloads: the best rendition for a channel with every face that is not
cleared for it blurred (photos: padded box; videos: along the face track through time).

Which faces: every face not dismissed, unless a person confirmed it as someone whose
consent covers the channel right now (gdpr.judgement.verdict.judge_redacted). What blurring cannot
fix (embargo, licence, missing alt text, restricted evidence, "people not detected",
faces not looked for yet) still refuses with the verdict's reasons.

The result is made once per rendition and set of blurred regions and kept a short while
in data/cache/redacted/ (never beside the originals); a file nobody asked for in
CACHE_KEEP_S is removed by the sweeper's periodic task (or the next redacted download).
Photos are blurred in the request; a video is made by a job (VIDEO_TASK, ffmpeg takes a
while): the download answers Pending until the file is there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image
from sqlmodel import Session, col, select

from dam import audit, clock, face_paths, jobs, media
from dam.auth import has_permission
from dam.blobs import BlobStore
from dam.errors import N_, Message, NotCleared, NotFound, ProcessingError
from dam.jobs import StageContext
from dam.messages import failure_of
from dam.models import Asset, AssetKind, Face, Job, JobStatus, Rendition, User, VerdictStatus
from dam.runtime import Runtime
from dam.settings import Settings
from dam.wiring import runtime_of
from gdpr.judgement import verdicts
from gdpr.judgement.verdict import judge_redacted
from gdpr.publishing import egress
from gdpr.publishing.face_blur import FaceArea, blur_photo, photo_boxes, video_regions

# Part of every cache key: a change to how faces are hidden makes new files.
VERSION = 1
CACHE_KEEP_S = 3600.0
JPEG_QUALITY = 90
CACHE_DIR = Path("cache", "redacted")
# Redacted videos are made by a job (ffmpeg takes a while): the download asks again.
VIDEO_TASK = "redact_video"
RETRY_FAILED_AFTER_S = 600.0  # a failed video is reported, not retried, for this long
MIME_TYPES = {".jpg": "image/jpeg", ".mp4": "video/mp4"}  # of the files made here


@dataclass(frozen=True)
class Redacted:
    path: Path
    mime: str
    filename: str
    face_ids: tuple[str, ...]  # the faces blurred


@dataclass(frozen=True)
class Pending:
    """A redacted video being made by a job: ask again later (or follow the job)."""

    job_id: str
    status: str
    progress: float


@dataclass(frozen=True)
class Plan:
    """Where a redacted version goes and how it is written (`write` None: the rendition
    itself, no face to blur)."""

    source: Path
    target: Path
    key: str
    video: bool
    write: Callable[[Path], object] | None

    def ready(self) -> bool:
        """Whether the file is there already; asking for it keeps it longer."""
        return self.write is None or _reuse(self.target)


def redacted_download(
    session: Session,
    blobs: BlobStore,
    asset: Asset,
    channel: str,
    *,
    settings: Settings,
    actor: User,
    lang: str = "nl",
) -> Redacted | Pending:
    """The asset's best rendition for `channel` with every face not cleared blurred;
    NotCleared (409) with the reasons when blurring faces is not enough. Photos are
    blurred here; a video not made yet is handed to a job (VIDEO_TASK) and Pending says
    which: the caller asks again until the file is there."""
    egress.require_channel(settings, channel)
    face_ids = _cleared_with_blur(
        session, asset, channel, settings=settings, actor=actor, lang=lang
    )
    rendition = egress.download_rendition(session, asset)
    plan = plan_redaction(session, blobs, asset, rendition, face_ids)
    if plan.video and not plan.ready():
        job = _request_video(session, asset, channel, plan)
        if not plan.ready():  # an inline queue (tests, `dam`) made it during the commit
            session.refresh(job)
            return Pending(job_id=job.id, status=job.status, progress=job.progress)
    path = make(plan)
    audit.record(
        session,
        action="asset.downloaded_redacted",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset.id,
        details={"channel": channel, "rendition": rendition.name, "face_ids": list(face_ids)},
    )
    session.commit()
    stem = asset.filename.rsplit(".", 1)[0] or asset.id
    return Redacted(
        path=path,
        mime=MIME_TYPES.get(path.suffix, rendition.mime),
        filename=f"{stem}-{channel}-redacted{path.suffix}",
        face_ids=face_ids,
    )


def _cleared_with_blur(
    session: Session, asset: Asset, channel: str, *, settings: Settings, actor: User, lang: str
) -> tuple[str, ...]:
    """The faces to blur for `channel`; the refusal when blurring is not enough."""
    terms, people = verdicts.asset_terms(session, asset.id, settings=settings)
    if terms is None:  # deleted meanwhile
        raise NotFound("This asset no longer exists.")
    verdict, face_ids = judge_redacted(
        terms, people, channel, clock.now(), verdicts.rules_for(settings)
    )
    if verdict.status != VerdictStatus.cleared:
        raise egress.refusal(
            session,
            verdict,
            settings=settings,
            lang=lang,
            names_visible=has_permission(actor, "people.read"),
        )
    return face_ids


def _request_video(session: Session, asset: Asset, channel: str, plan: Plan) -> Job:
    """The job making this redacted video: one already on its way, or a new one (committed).
    A recent failure is reported instead of trying again at every poll."""
    earlier = session.exec(
        select(Job)
        .where(Job.asset_id == asset.id, Job.stage == VIDEO_TASK)
        .order_by(col(Job.created_at).desc())
    ).all()
    for job in earlier:
        if (job.params or {}) != {"channel": channel, "key": plan.key}:
            continue
        if job.status in (JobStatus.queued, JobStatus.running):
            return job
        failed_at = job.finished_at
        if (
            job.status == JobStatus.failed
            and failed_at is not None
            and (clock.now() - failed_at).total_seconds() < RETRY_FAILED_AFTER_S
        ):
            why = failure_of(job) or Message(N_("The redacted version could not be made."))
            raise ProcessingError(why.id, params=why.params)
        break
    job = jobs.schedule(
        session,
        asset_id=asset.id,
        stage=VIDEO_TASK,
        params={"channel": channel, "key": plan.key},
    )
    session.commit()
    return job


def make_redacted_video(ctx: StageContext) -> None:
    """The VIDEO_TASK job: the redacted video for the job's channel, as the faces and
    consents stand now (a download asks again and is refused if it may not leave)."""
    channel = str(ctx.params.get("channel", ""))
    with ctx.session() as session:
        asset = session.get(Asset, ctx.asset_id)
        if asset is None:
            return
        terms, people = verdicts.asset_terms(session, asset.id, settings=ctx.settings)
        if terms is None:
            return
        verdict, face_ids = judge_redacted(
            terms, people, channel, clock.now(), verdicts.rules_for(ctx.settings)
        )
        if verdict.status != VerdictStatus.cleared:
            return  # nothing may leave for this channel: nothing to make
        rendition = egress.download_rendition(session, asset)
        plan = plan_redaction(session, ctx.blobs, asset, rendition, face_ids)
    ctx.report_progress(0.05)
    make(plan)


def video_need(ctx: StageContext) -> int:
    """The VIDEO_TASK's memory (the job runner keeps to a budget): ffmpeg re-encoding the
    download rendition with faces blurred, frames of the whole picture in flight, as the
    lent blurrer's estimate gives it (a rendition is SDR: no tone map)."""
    with ctx.session() as session:
        asset = session.get(Asset, ctx.asset_id)
        if asset is None or AssetKind(asset.kind) != AssetKind.video:
            return 0
        try:
            rendition = egress.download_rendition(session, asset)
        except NotCleared:
            return 0  # nothing to blur: the job ends at once
    need = media.original_blur_memory(ctx.runtime.wiring)
    # Never refused for size (ffmpeg has its own caps): a larger job runs alone.
    return min(
        need(rendition.width or 0, rendition.height or 0, False), ctx.settings.job_memory_bytes
    )


def plan_redaction(
    session: Session,
    blobs: BlobStore,
    asset: Asset,
    rendition: Rendition,
    face_ids: tuple[str, ...],
) -> Plan:
    """Where the rendition with `face_ids` blurred goes (the rendition itself when there
    are none: its own type then) and how it is written."""
    source = blobs.root / rendition.path
    if not face_ids:
        return Plan(source, source, "", video=False, write=None)
    paths = face_paths.paths_of(session, face_ids)
    faces = [
        FaceArea(f.box_x, f.box_y, f.box_w, f.box_h, f.time_s, f.time_end_s, paths.get(f.id))
        for f in session.exec(select(Face).where(col(Face.id).in_(face_ids)).order_by(Face.id))
    ]
    cache = cache_dir(blobs)  # old files go with the periodic prune_task
    if AssetKind(asset.kind) == AssetKind.video:
        duration = asset.duration_s or 0.0
        if duration <= 0:  # a processed video always has one; without it, no time limits
            raise ProcessingError("The length of this video is unknown; process it again.")
        regions = video_regions(
            faces, width=rendition.width, height=rendition.height, duration_s=duration
        )
        key = _key(rendition, [asdict(r) for r in regions])
        blur = media.video_blurrer(runtime_of(session).wiring)
        return Plan(
            source,
            cache / f"{asset.id}-{key}.mp4",
            key,
            video=True,
            write=lambda part: blur(source, part, regions=regions, duration_s=duration),
        )
    with Image.open(source) as opened:
        image = opened.convert("RGB")
    boxes = photo_boxes(faces, width=image.width, height=image.height)
    key = _key(rendition, [asdict(b) for b in boxes])

    def write(part: Path) -> None:
        blur_photo(image, boxes).save(part, "JPEG", quality=JPEG_QUALITY)

    return Plan(source, cache / f"{asset.id}-{key}.jpg", key, video=False, write=write)


def make(plan: Plan) -> Path:
    """The planned file, written unless it is there already."""
    if plan.write is not None and not _reuse(plan.target):
        _make(plan.target, plan.write)
    return plan.target


def cache_dir(blobs: BlobStore) -> Path:
    path = blobs.root / CACHE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def forget(blobs: BlobStore, asset_id: str) -> int:
    """Remove the asset's cached redacted files (after an erasure, say); how many."""
    if not asset_id.isalnum():
        raise ValueError("asset id must be alphanumeric")
    removed = 0
    for path in cache_dir(blobs).glob(f"{asset_id}-*"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _key(rendition: Rendition, regions: list[dict[str, object]]) -> str:
    recipe = json.dumps(
        {"v": VERSION, "rendition": rendition.sha256, "regions": regions}, sort_keys=True
    )
    return hashlib.sha256(recipe.encode()).hexdigest()[:32]


def _reuse(target: Path) -> bool:
    """Whether `target` is made already; asking for it again keeps it longer."""
    try:
        os.utime(target)
    except FileNotFoundError:
        return False
    return True


def _make(target: Path, write: Callable[[Path], object]) -> None:
    """Write through `write(part_path)` to a temp file beside `target`, then rename, so a
    concurrent download never sees half a file."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".part-", suffix=target.suffix)
    os.close(fd)
    part = Path(name)
    try:
        write(part)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def prune_task(rt: Runtime) -> None:
    """The periodic task (in the runtime's wiring): old redacted files go."""
    prune_cache(rt.blobs)


def prune_cache(blobs: BlobStore) -> None:
    cache = blobs.root / CACHE_DIR
    if cache.is_dir():
        _prune(cache)


def _prune(cache: Path) -> None:
    """Remove redacted files nobody asked for in CACHE_KEEP_S (a response still sending
    one keeps its open file)."""
    oldest = time.time() - CACHE_KEEP_S
    for entry in cache.iterdir():
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime < oldest:
                entry.unlink()
