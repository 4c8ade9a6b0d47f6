"""Where and how a redacted version hides faces: padded pixel boxes for photos, boxes
with a time span for videos (pure), and the blur of a photo (Pillow, in memory).

A photo's face box is tight around the face (brows to chin), so it is widened by
PHOTO_PAD of its size on every side to take in hair, ears and the jaw line.

A video face is a track that stores one box (its best frame) and when it was first and
last seen in frames searched about once a second (sparser for long videos, see
ingest/video/sampling.py). Between those frames the person may move, and they may be on
screen up to a search interval before and after. Not knowing better, the box is widened
by VIDEO_PAD of its size on every side and the span by TRACK_MARGIN_S plus one search
interval at each end: when unsure, blur more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageFilter

from dam.media import BLUR_BLOCKS, BLUR_SIGMA_FRACTION, BlurRegion

PHOTO_PAD = 0.3
VIDEO_PAD = 1.0
TRACK_MARGIN_S = 0.5
# How often ingest/video/sampling.py searches frames: every second, and no more than
# this many grid frames per video (a longer video is searched more sparsely).
SEARCH_EVERY_S = 1.0
SEARCH_MAX_FRAMES = 1800
_FUZZ = 1e-6  # pixels


@dataclass(frozen=True)
class FaceArea:
    """A face as redaction sees it: its box relative to the upright picture (0..1) and,
    in a video, the track's span."""

    x: float
    y: float
    w: float
    h: float
    time_s: float | None = None
    time_end_s: float | None = None


@dataclass(frozen=True)
class PixelBox:
    left: int
    top: int
    width: int
    height: int


def pixel_box(face: FaceArea, *, pad: float, width: int, height: int) -> PixelBox | None:
    """The face's box widened by `pad` of its size on each side, in pixels of a
    `width` x `height` picture, on even coordinates (video chroma), kept inside the
    picture; None when nothing of it is inside."""
    left = (face.x - pad * face.w) * width
    top = (face.y - pad * face.h) * height
    right = (face.x + face.w * (1 + pad)) * width
    bottom = (face.y + face.h * (1 + pad)) * height
    span_x = _even_span(left, right, width)
    span_y = _even_span(top, bottom, height)
    if span_x is None or span_y is None:
        return None
    return PixelBox(span_x[0], span_y[0], span_x[1] - span_x[0], span_y[1] - span_y[0])


def _even_span(start: float, end: float, limit: int) -> tuple[int, int] | None:
    if not (math.isfinite(start) and math.isfinite(end)) or end <= 0 or start >= limit:
        return None
    edge = limit - limit % 2
    # Rounding outwards, but not by a whole step for a float's last-digit error.
    low = max(0, math.floor((max(0.0, start) + _FUZZ) / 2) * 2)
    high = min(edge, math.ceil((end - _FUZZ) / 2) * 2)
    if high - low < 2:  # a sliver at the edge: blur the two pixels nearest to it
        low = min(low, max(0, edge - 2))
        high = low + 2
    return (low, high) if high <= limit else None


def photo_boxes(faces: Iterable[FaceArea], *, width: int, height: int) -> list[PixelBox]:
    boxes = (pixel_box(f, pad=PHOTO_PAD, width=width, height=height) for f in faces)
    return [b for b in boxes if b is not None]


def search_interval(duration_s: float) -> float:
    """How far apart the frames searched for faces are in a video this long."""
    return max(SEARCH_EVERY_S, max(0.0, duration_s) / SEARCH_MAX_FRAMES)


def video_regions(
    faces: Iterable[FaceArea], *, width: int, height: int, duration_s: float
) -> list[BlurRegion]:
    """Each track's widened box over its widened span (a face without a span: always)."""
    margin = TRACK_MARGIN_S + search_interval(duration_s)
    regions = []
    for face in faces:
        box = pixel_box(face, pad=VIDEO_PAD, width=width, height=height)
        if box is None:
            continue
        start, end = 0.0, None
        if face.time_s is not None:
            start = max(0.0, face.time_s - margin)
            last = face.time_end_s if face.time_end_s is not None else face.time_s
            end = last + margin if last + margin < duration_s else None
        regions.append(BlurRegion(box.left, box.top, box.width, box.height, start, end))
    return regions


def blur_photo(image: Image.Image, boxes: Sequence[PixelBox]) -> Image.Image:
    """A copy of `image` with every box made unrecognisable (dam.media's blur)."""
    out = image.copy()
    for box in boxes:
        right, bottom = box.left + box.width, box.top + box.height
        region = out.crop((box.left, box.top, right, bottom))
        longer = max(box.width, box.height)
        blocks = (
            max(1, round(BLUR_BLOCKS * box.width / longer)),
            max(1, round(BLUR_BLOCKS * box.height / longer)),
        )
        smooth = region.resize(blocks, Image.Resampling.BOX).resize(
            (box.width, box.height), Image.Resampling.BILINEAR
        )
        sigma = max(1.0, BLUR_SIGMA_FRACTION * min(box.width, box.height))
        out.paste(smooth.filter(ImageFilter.GaussianBlur(sigma)), (box.left, box.top))
    return out
