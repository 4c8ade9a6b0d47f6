"""The `video_faces` stage: faces in a video, followed from frame to frame into tracks.

The smallest web rendition (our own H.264 file, upright) is decoded by the hardened
ffmpeg runner at a few frames a second; `ingest.video.sampling` keeps about one a second
plus the first frame of every new shot. Those are searched with the photo detector, and
`ingest.faces.tracking` joins the faces into tracks. Each track is stored as one face, the
way a photo's faces are (`ingest.faces.store`): its time span, the box, score and crop of
its best frame, one embedding (sealed), and its path (the box in every frame it was seen
in, so that redaction follows the face). Only that crop is ever encoded (`FaceCrop`).

Frames are handed from ffmpeg's reader thread to this one through a queue of two, so at
most a few frames are in memory however long the video is: ffmpeg waits while faces are
searched.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Generator, Iterable
from dataclasses import astuple, dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from sqlmodel import Session, col, select

from dam import biometrics
from dam.errors import ProcessingError
from dam.face_paths import PathSample
from dam.geometry import Box
from dam.jobs import StageContext
from dam.models import Asset, Rendition
from ingest.faces.descriptor import describer
from ingest.faces.detect import detect_faces
from ingest.faces.geometry import clamp, padded, pixel_bounds, relative
from ingest.faces.store import FoundFace, Span, encode_crop, match_by_span, store_faces
from ingest.faces.tracking import Sighting, Track, Tracker
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
    with ctx.session() as session:
        asset = session.get(Asset, ctx.asset_id)
        if asset is None:
            return
        rendition = _smallest_web_rendition(session, ctx.asset_id)
        original_width, duration = asset.width or rendition.width, asset.duration_s or 0.0
    key = biometrics.face_key(ctx.settings) if ctx.settings.face_recognition else None
    scale = rendition.width / max(1, original_width)
    search = FrameSearch(
        min_face=ctx.settings.face_min_size_px * scale,
        whole_frame_from=ctx.settings.face_whole_frame_px * scale,
        recognise=key is not None,
    )
    plan = plan_sampling(duration)
    tracker = CroppingTracker(interval_s=plan.every_s)
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
    with ctx.session() as session:
        if session.get(Asset, ctx.asset_id) is None:
            return
        store_faces(
            session,
            blobs=ctx.blobs,
            asset_id=ctx.asset_id,
            found=found_faces(tracks, size=(rendition.width, rendition.height)),
            key=key,
            match=match_by_span,
        )
        session.commit()


@dataclass(frozen=True)
class FrameSearch:
    """Faces of one frame as tracking sightings."""

    min_face: float
    recognise: bool
    # As for photos: the whole frame from this size up, smaller faces where skin is.
    whole_frame_from: float | None = None

    def sightings(self, frame: Frame) -> list[Sighting]:
        rgb = frame.pixels
        found = detect_faces(rgb, min_face=self.min_face, whole_frame_from=self.whole_frame_from)
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
                    picture=FaceCrop(rgb, detection.box),
                )
            )
        return out


class FaceCrop:
    """A sighting's padded face region, encoded as the face's crop only if it is kept.

    Only a track's best sighting is kept, and which one that is is known when the track
    ends, so the region is held as pixels until then (a copy, so that the frame can go)
    and never encoded for the other sightings. `jpeg()` encodes once and lets go of the
    pixels: an ended track costs a few kB however large its face.
    """

    __slots__ = ("_jpeg", "_pixels")

    def __init__(self, rgb: np.ndarray, box: Box) -> None:
        height, width = rgb.shape[:2]
        left, top, right, bottom = pixel_bounds(padded(box, width, height))
        self._pixels: np.ndarray | None = np.array(rgb[top:bottom, left:right], order="C")
        self._jpeg: bytes | None = None

    @property
    def encoded(self) -> bool:
        return self._jpeg is not None

    def jpeg(self) -> bytes:
        """The crop as a small JPEG (encoded on the first call)."""
        if self._jpeg is None:
            assert self._pixels is not None
            self._jpeg = encode_crop(Image.fromarray(self._pixels, "RGB"))
            self._pixels = None
        return self._jpeg


class CroppingTracker(Tracker):
    """A Tracker that encodes each track's crop as the track ends (tracks only let go of
    the pictures of their other sightings), so memory stays small however long the video."""

    def add(self, time_s: float, sightings: Iterable[Sighting]) -> None:
        done = len(self.ended)
        super().add(time_s, sightings)
        for track in self.ended[done:]:
            _crop(track.best).jpeg()


def _crop(sighting: Sighting) -> FaceCrop:
    assert isinstance(sighting.picture, FaceCrop)  # FrameSearch made the sighting
    return sighting.picture


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


def found_faces(tracks: list[Track], *, size: tuple[int, int]) -> list[FoundFace]:
    """The tracks as faces to store: the best frame's box, score and crop (the only crop
    of the track that is ever encoded), the span, the track's one embedding and its path."""
    return [
        FoundFace(
            box=relative(track.best.box, *size),
            score=track.best.score,
            crop=_crop(track.best).jpeg(),
            embedding=track.embedding(),
            span=Span(track.start_s, track.end_s, track.frames),
            path=tuple(PathSample(t, *astuple(relative(box, *size))) for t, box in track.path),
        )
        for track in tracks
    ]


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
