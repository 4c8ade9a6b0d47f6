"""The `video_faces` stage: faces in a video, followed from frame to frame into tracks.

The smallest web rendition (our own H.264 file, upright) is decoded by the hardened
ffmpeg runner at a few frames a second; `ingest.video.sampling` keeps about one a second
plus the first frame of every new shot. Those are searched with the photo detector, and
`ingest.faces.tracking` joins the faces into tracks. Each track is stored as one face:
its time span, the box, score and crop of its best frame, and one embedding (sealed).

Frames are handed from ffmpeg's reader thread to this one through a queue of two, so at
most a few frames are in memory however long the video is: ffmpeg waits while faces are
searched.
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from sqlmodel import Session, col, delete, select

from dam import biometrics, events
from dam.blobs import write_atomic
from dam.clock import now
from dam.errors import ProcessingError
from dam.ids import new_id
from dam.jobs import StageContext
from dam.models import Asset, Face, FaceEmbedding, FaceState, Rendition
from ingest.faces.descriptor import DESCRIPTOR_MODEL, describer
from ingest.faces.detect import detect_faces
from ingest.faces.geometry import Box, clamp, padded, pixel_bounds, relative
from ingest.faces.stage import CROP_EDGE, CROP_QUALITY, DETECTOR
from ingest.faces.tracking import (
    FoundTrack,
    Sighting,
    StoredTrack,
    Track,
    Tracker,
    reconcile_tracks,
)
from ingest.ffmpeg import ffmpeg_binary
from ingest.video import commands, limits, process
from ingest.video.frames import Frame
from ingest.video.guard import JobGuard
from ingest.video.sampling import FrameSampler, SamplingPlan, plan_sampling

log = logging.getLogger(__name__)

# Searching one 720p frame takes about 0.3 s on this project's 2-core reference machine;
# ffmpeg waits meanwhile, so its time limit grows by this much per frame it hands over.
SECONDS_PER_SEARCHED_FRAME = 3.0
_PROGRESS_EVERY_S = 1.0


def detect_video_faces(ctx: StageContext) -> None:
    """Find the people in a video as face tracks and store them (decisions survive)."""
    if not ctx.settings.face_detection:
        return
    guard = JobGuard(ctx)
    with Session(ctx.engine) as session:
        asset = session.get(Asset, ctx.asset_id)
        if asset is None:
            return
        rendition = _smallest_web_rendition(session, ctx.asset_id)
        original_width, duration = asset.width or rendition.width, asset.duration_s or 0.0
    key = biometrics.face_key(ctx.settings) if ctx.settings.face_recognition else None
    scale = rendition.width / max(1, original_width)
    search = FrameSearch(
        min_face=max(12.0, ctx.settings.face_min_size_px * scale), recognise=key is not None
    )
    plan = plan_sampling(duration)
    tracker = Tracker(interval_s=plan.every_s)
    started = time.monotonic()
    frames = sampled_frames(
        ctx.blobs.root / rendition.path,
        width=rendition.width,
        height=rendition.height,
        duration_s=duration,
        plan=plan,
    )
    # Closed however the loop ends, so a cancelled job stops ffmpeg at once.
    with contextlib.closing(frames):
        for frame in frames:
            tracker.add(frame.time_s, search.sightings(frame))
            if time.monotonic() - started >= _PROGRESS_EVERY_S:
                started = time.monotonic()
                guard.progress(0.9 * min(1.0, frame.time_s / max(duration, 1e-3)))
    tracks = tracker.finish()
    guard.progress(0.9)
    with Session(ctx.engine, expire_on_commit=False) as session:
        if session.get(Asset, ctx.asset_id) is None:
            return
        face_ids = store_tracks(session, ctx, tracks, key, size=(rendition.width, rendition.height))
        events.publish_after_commit(
            session, events.FacesDetected(asset_id=ctx.asset_id, face_ids=tuple(face_ids))
        )
        session.commit()


@dataclass(frozen=True)
class FrameSearch:
    """Faces of one frame as tracking sightings."""

    min_face: float
    recognise: bool

    def sightings(self, frame: Frame) -> list[Sighting]:
        rgb = frame.pixels
        found = detect_faces(rgb, min_face=self.min_face)
        if not found:
            return []
        vectors: list[np.ndarray | None] = [None] * len(found)
        if self.recognise:
            vectors = list(describer().describe(rgb, [d.box for d in found]))
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        height, width = gray.shape
        out = []
        for detection, vector in zip(found, vectors, strict=True):
            left, top, right, bottom = pixel_bounds(clamp(detection.box, width, height))
            face = gray[top:bottom, left:right]
            sharpness = float(cv2.Laplacian(face, cv2.CV_64F).var()) if face.size else 0.0
            out.append(
                Sighting(
                    time_s=frame.time_s,
                    box=detection.box,
                    score=detection.score,
                    sharpness=sharpness,
                    embedding=vector,
                    picture=crop_jpeg(rgb, detection.box),
                )
            )
        return out


def crop_jpeg(rgb: np.ndarray, box: Box) -> bytes:
    """The padded crop of one face as a small JPEG (made for every sighting: a few kB)."""
    height, width = rgb.shape[:2]
    left, top, right, bottom = pixel_bounds(padded(box, width, height))
    crop = Image.fromarray(np.ascontiguousarray(rgb[top:bottom, left:right]), "RGB")
    crop.thumbnail((CROP_EDGE, CROP_EDGE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=CROP_QUALITY)
    return buffer.getvalue()


class _Stopped(Exception):
    """The consumer went away (cancelled or failed): stop ffmpeg."""


class _FrameFeed:
    """Runs in ffmpeg's stdout reader: cuts raw RGB into frames, keeps the sampled ones."""

    def __init__(self, width: int, height: int, plan: SamplingPlan) -> None:
        self.size = width * height * 3
        self.shape = (height, width, 3)
        self.plan = plan
        self.sampler = FrameSampler(plan)
        self.buffer = bytearray()
        self.scanned = 0
        self.frames: queue.Queue[Frame | None] = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def __call__(self, chunk: bytes) -> None:
        self.buffer.extend(chunk)
        while len(self.buffer) >= self.size:
            pixels = np.frombuffer(bytes(self.buffer[: self.size]), np.uint8).reshape(self.shape)
            del self.buffer[: self.size]
            at = round(self.scanned * self.plan.scan_every_s, 3)
            self.scanned += 1
            if self.sampler.wants(at, pixels):
                self.hand_over(Frame(at, pixels))

    def hand_over(self, item: Frame | None) -> None:
        while not self.stop.is_set():
            try:
                self.frames.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Stopped

    def tick(self, _seconds: float | None) -> None:
        if self.stop.is_set():
            raise _Stopped


def sampled_frames(
    rendition: Path, *, width: int, height: int, duration_s: float, plan: SamplingPlan
) -> Generator[Frame, None, None]:
    """The frames to search, in time order, decoded while the caller works on the last."""
    feed = _FrameFeed(width, height, plan)
    expected = min(plan.max_frames, 2 * (duration_s / plan.every_s + 1))
    job = process.Run(
        args=commands.frames_command(
            _ffmpeg(), rendition, every_s=plan.scan_every_s, width=width, height=height
        ),
        time_limit_s=limits.time_limit(duration_s) + SECONDS_PER_SEARCHED_FRAME * expected,
        tick=feed.tick,
        on_stdout=feed,
    )

    def decode() -> None:
        try:
            process.run(job)
        except BaseException as exc:  # handed to the consumer thread
            feed.error = exc
        finally:
            with contextlib.suppress(_Stopped):
                feed.hand_over(None)

    thread = threading.Thread(target=decode, name="video-faces-ffmpeg", daemon=True)
    thread.start()
    try:
        while (frame := feed.frames.get()) is not None:
            yield frame
    finally:
        feed.stop.set()
        thread.join()
    if isinstance(feed.error, process.FfmpegTimedOut):
        raise ProcessingError(
            "Searching the video for faces took longer than its time limit, so it was "
            "stopped. The video itself is kept; an administrator can retry."
        )
    if isinstance(feed.error, process.FfmpegFailed):
        log.warning("ffmpeg failed reading frames (exit %s)", feed.error.returncode)
        raise ProcessingError(
            "The web version of this video could not be read to search it for faces."
        )
    if feed.error is not None:
        raise feed.error


def store_tracks(
    session: Session,
    ctx: StageContext,
    tracks: list[Track],
    key: biometrics.FaceKey | None,
    *,
    size: tuple[int, int],
) -> list[str]:
    """Store the tracks as the asset's faces, keeping what people decided; their ids."""
    asset_id = ctx.asset_id
    existing = list(session.exec(select(Face).where(Face.asset_id == asset_id)))
    found = [FoundTrack(t.start_s, t.end_s, relative(t.best.box, *size)) for t in tracks]
    plan = reconcile_tracks(
        [
            StoredTrack(
                f.id,
                f.time_s or 0.0,
                f.time_end_s if f.time_end_s is not None else f.time_s or 0.0,
                Box(f.box_x, f.box_y, f.box_w, f.box_h),
                f.state in (FaceState.confirmed, FaceState.dismissed),
            )
            for f in existing
        ],
        found,
    )
    by_id = {f.id: f for f in existing}
    directory = ctx.blobs.derived_dir(asset_id) / "faces"
    moment = now()
    stored: list[str] = []
    for index, (track, where) in enumerate(zip(tracks, found, strict=True)):
        face = by_id.get(plan.kept.get(index, "")) or Face(
            id=new_id(), asset_id=asset_id, box_x=0, box_y=0, box_w=0, box_h=0, score=0,
            detector=DETECTOR,
        )  # fmt: skip
        face.box_x, face.box_y, face.box_w, face.box_h = (
            where.box.x,
            where.box.y,
            where.box.w,
            where.box.h,
        )
        face.time_s, face.time_end_s, face.frames = track.start_s, track.end_s, track.frames
        face.score, face.detector, face.updated_at = track.best.score, DETECTOR, moment
        target = directory / f"{face.id}.jpg"
        write_atomic(target, track.best.picture)
        face.crop_path = str(target.relative_to(ctx.blobs.root))
        session.add(face)
        stored.append(face.id)
    session.flush()
    if stored:
        session.exec(delete(FaceEmbedding).where(col(FaceEmbedding.face_id).in_(stored)))
    for face_id, track in zip(stored, tracks, strict=True):
        vector = track.embedding()
        if key is not None and vector is not None:
            session.add(
                FaceEmbedding(
                    face_id=face_id,
                    model=DESCRIPTOR_MODEL,
                    key_id=key.key_id,
                    sealed=biometrics.seal(
                        key, face_id=face_id, model=DESCRIPTOR_MODEL, vector=vector
                    ),
                )
            )
    for face_id in plan.removed:
        session.delete(by_id[face_id])
        (directory / f"{face_id}.jpg").unlink(missing_ok=True)
    log.info("asset %s: %d face track(s), %d removed", asset_id, len(tracks), len(plan.removed))
    return stored


def _smallest_web_rendition(session: Session, asset_id: str) -> Rendition:
    found = session.exec(
        select(Rendition)
        .where(col(Rendition.asset_id) == asset_id)
        .where(col(Rendition.name).startswith("web_"))
        .order_by(col(Rendition.width) * col(Rendition.height))
    ).first()
    if found is None:
        raise ProcessingError(
            "The web version is missing, so the video cannot be searched for faces."
        )
    return found


def _ffmpeg() -> str:
    binary = ffmpeg_binary()
    if binary is None:
        raise ProcessingError(
            "ffmpeg is not installed on this server, so videos cannot be searched for "
            "faces; an administrator can check with the doctor command."
        )
    return binary
