"""Where and how a redacted version hides faces: padded pixel boxes for photos, boxes
with a time span for videos (pure), and the blur of a photo (Pillow, in memory).

A photo's face box is tight around the face (brows to chin), so it is widened by
PHOTO_PAD of its size on every side to take in hair, ears and the jaw line.

A video face is a track, seen in frames searched about once a second (sparser for long
videos, see ingest/video/sampling.py), and it stores its path: the box in each of those
frames. Between two of them the face is taken to be within both boxes together, widened
by PATH_PAD. Before the first and after the last sighting the person may be on screen up
to TRACK_MARGIN_S plus one search interval longer, moving, so those ends get the end's
box widened by VIDEO_PAD together with where the face gets to at the speed it had there.
Neighbouring pieces are blurred as one region while that stays under MERGE_GROWTH times
the larger piece (a still face is one region), and a track gets a limited number of
regions (each costs ffmpeg a chain of filters over every frame), merging more when it
would have more: when unsure, blur more.

Faces stored before paths existed (and tracks seen once) keep the old rule: the one box
(the best frame's) widened by VIDEO_PAD over the whole widened span.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from PIL import Image, ImageFilter

from dam.face_paths import PathSample
from dam.media import BLUR_BLOCKS, BLUR_SIGMA_FRACTION, BlurRegion

PHOTO_PAD = 0.3
VIDEO_PAD = 1.0
PATH_PAD = 0.4
TRACK_MARGIN_S = 0.5
MERGE_GROWTH = 2.0
# Every region is a chain of ffmpeg filters run on every frame and about 250 characters
# of its command line (one argument may not pass 128 kB on Linux): a track gets at most
# MAX_REGIONS_PER_TRACK, and fewer when the video has so many tracks that all of them
# together would pass MAX_REGIONS (never fewer than one, the old single region's count).
MAX_REGIONS_PER_TRACK = 50
MAX_REGIONS = 100
# How often ingest/video/sampling.py searches frames: every second, and no more than
# this many grid frames per video (a longer video is searched more sparsely).
SEARCH_EVERY_S = 1.0
SEARCH_MAX_FRAMES = 1800
_FUZZ = 1e-6  # pixels


@dataclass(frozen=True)
class FaceArea:
    """A face as redaction sees it: its box relative to the upright picture (0..1) and,
    in a video, the track's span and path (relative boxes in time order)."""

    x: float
    y: float
    w: float
    h: float
    time_s: float | None = None
    time_end_s: float | None = None
    path: tuple[PathSample, ...] | None = None


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
    return _pixels(_Bounds.around(face.x, face.y, face.w, face.h, pad), width, height)


@dataclass(frozen=True)
class _Bounds:
    """A rectangle relative to the picture (0..1, may reach outside)."""

    left: float
    top: float
    right: float
    bottom: float

    @classmethod
    def around(cls, x: float, y: float, w: float, h: float, pad: float) -> _Bounds:
        return cls(x - pad * w, y - pad * h, x + w * (1 + pad), y + h * (1 + pad))

    @property
    def area(self) -> float:
        return max(0.0, self.right - self.left) * max(0.0, self.bottom - self.top)

    def union(self, other: _Bounds) -> _Bounds:
        return _Bounds(
            min(self.left, other.left),
            min(self.top, other.top),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )


def _pixels(bounds: _Bounds, width: int, height: int) -> PixelBox | None:
    span_x = _even_span(bounds.left * width, bounds.right * width, width)
    span_y = _even_span(bounds.top * height, bounds.bottom * height, height)
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
    """Each track blurred along its path (without one: its widened box over its widened
    span; a face without a span: always)."""
    margin = TRACK_MARGIN_S + search_interval(duration_s)
    areas = list(faces)
    cap = max(1, min(MAX_REGIONS_PER_TRACK, MAX_REGIONS // max(1, len(areas))))
    regions = []
    for face in areas:
        if face.time_s is not None and face.path is not None and len(face.path) >= 2:
            pieces = _merged(_path_pieces(face.path, margin), cap=cap)
        else:
            pieces = [_single_piece(face, margin)]
        for piece in pieces:
            box = _pixels(piece.bounds, width, height)
            if box is None:
                continue
            start = max(0.0, piece.start_s)
            end = piece.end_s if piece.end_s is not None and piece.end_s < duration_s else None
            regions.append(BlurRegion(box.left, box.top, box.width, box.height, start, end))
    return regions


@dataclass(frozen=True)
class _Piece:
    """Part of a track to blur: where, from when to when (None: to the end), and the
    largest single piece it was merged from (for MERGE_GROWTH)."""

    bounds: _Bounds
    start_s: float
    end_s: float | None
    largest: float


def _single_piece(face: FaceArea, margin: float) -> _Piece:
    bounds = _Bounds.around(face.x, face.y, face.w, face.h, VIDEO_PAD)
    if face.time_s is None:
        return _Piece(bounds, 0.0, None, bounds.area)
    last = face.time_end_s if face.time_end_s is not None else face.time_s
    return _Piece(bounds, face.time_s - margin, last + margin, bounds.area)


def _path_pieces(path: Sequence[PathSample], margin: float) -> list[_Piece]:
    """Between each two sightings both boxes together, widened by PATH_PAD (and by
    TRACK_MARGIN_S in time, so that neighbours overlap whatever the frames' exact times);
    for the margin before the first and after the last, the end's box widened by
    VIDEO_PAD together with where the face gets to at the speed it had there."""
    samples = sorted(path, key=lambda s: s.time_s)

    def piece(bounds: _Bounds, start_s: float, end_s: float) -> _Piece:
        return _Piece(bounds, start_s, end_s, bounds.area)

    def around(s: PathSample, pad: float) -> _Bounds:
        return _Bounds.around(s.x, s.y, s.w, s.h, pad)

    first, last = samples[0], samples[-1]
    start = around(first, VIDEO_PAD).union(around(_moved(samples[1], first, margin), PATH_PAD))
    end = around(last, VIDEO_PAD).union(around(_moved(samples[-2], last, margin), PATH_PAD))
    pieces = [piece(start, first.time_s - margin, first.time_s)]
    pieces += [
        piece(
            around(a, PATH_PAD).union(around(b, PATH_PAD)),
            a.time_s - TRACK_MARGIN_S,
            b.time_s + TRACK_MARGIN_S,
        )
        for a, b in pairwise(samples)
    ]
    pieces.append(piece(end, last.time_s, last.time_s + margin))
    return pieces


def _moved(before: PathSample, at: PathSample, seconds: float) -> PathSample:
    """Where a face seen at `before` and then at `at` would be `seconds` beyond `at` at
    the same speed (going on, or, for a `before` later than `at`, coming from)."""
    step = abs(at.time_s - before.time_s)
    if step <= 0:
        return at
    factor = seconds / step
    return at._replace(x=at.x + (at.x - before.x) * factor, y=at.y + (at.y - before.y) * factor)


def _join(a: _Piece, b: _Piece) -> _Piece:
    end = None if a.end_s is None or b.end_s is None else max(a.end_s, b.end_s)
    return _Piece(
        a.bounds.union(b.bounds), min(a.start_s, b.start_s), end, max(a.largest, b.largest)
    )


def _merged(pieces: Sequence[_Piece], *, cap: int) -> list[_Piece]:
    """Neighbours in time joined while the joined box stays under MERGE_GROWTH times the
    larger piece; then, past `cap`, runs of neighbours joined regardless."""
    out: list[_Piece] = []
    for piece in pieces:
        if out:
            joined = _join(out[-1], piece)
            if joined.bounds.area <= MERGE_GROWTH * joined.largest:
                out[-1] = joined
                continue
        out.append(piece)
    if len(out) <= cap:
        return out
    # `cap` runs of neighbours, as even in length as can be.
    edges = [len(out) * n // cap for n in range(cap + 1)]
    capped = []
    for start, stop in pairwise(edges):
        joined = out[start]
        for other in out[start + 1 : stop]:
            joined = _join(joined, other)
        capped.append(joined)
    return capped


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
