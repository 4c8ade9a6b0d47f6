"""Crops that keep people whole: pure geometry over fractions of the upright image.

A preset's automatic crop is the largest window of its aspect ratio that fits the image,
placed so that every face box (grown by some headroom, more above the head than below)
lies inside it, centred on the faces. When the faces do not fit together in that window
the one centred on all of them is kept (`Crop.faces_whole` says so). Without faces the
window goes where an attention map (what the eye is drawn to: edges, saturation, skin
tones; dam/render.py computes it) sums highest, as libvips' `smartcrop attention` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dam.errors import InvalidInput
from dam.geometry import Box

# Face boxes grow by these fractions of their own size before they must fit: a head is
# more than the detector's box (hair above, chin below, ears at the sides).
HEADROOM_TOP = 0.45
HEADROOM_SIDE = 0.2
HEADROOM_BOTTOM = 0.25


FULL = Box(0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class Crop:
    box: Box
    source: str  # "faces", "attention", "saved", "requested" or "full"
    faces_whole: bool = True


def parse_box(text: str) -> Box:
    """`x,y,w,h` in fractions of the upright image; InvalidInput for anything else."""
    parts = text.split(",")
    try:
        x, y, w, h = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(
            "crop must be four numbers x,y,w,h between 0 and 1 (fractions of the image)."
        ) from None
    return checked_box(x, y, w, h)


def checked_box(x: float, y: float, w: float, h: float) -> Box:
    """The box, or InvalidInput unless it lies within the image and has a size."""
    finite = all(np.isfinite(v) for v in (x, y, w, h))
    if not finite or x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > 1.0001 or y + h > 1.0001:
        raise InvalidInput("crop must lie within the image: 0 <= x, y and x+w, y+h <= 1, w, h > 0.")
    return Box(x, y, min(w, 1 - x), min(h, 1 - y))


def with_headroom(face: Box) -> Box:
    """A face box grown by the headroom, clipped to the image."""
    x0 = max(0.0, face.x - face.w * HEADROOM_SIDE)
    y0 = max(0.0, face.y - face.h * HEADROOM_TOP)
    x1 = min(1.0, face.right + face.w * HEADROOM_SIDE)
    y1 = min(1.0, face.bottom + face.h * HEADROOM_BOTTOM)
    return Box(x0, y0, x1 - x0, y1 - y0)


def window(width: int, height: int, aspect: float) -> tuple[float, float]:
    """The largest window of `aspect` (w/h, in pixels) that fits a width x height image,
    as fractions (w, h) of it."""
    if width / height > aspect:  # the image is wider: full height
        return (aspect * height / width, 1.0)
    return (1.0, (width / aspect) / height)


def _place(centre: float, size: float) -> float:
    """Start of a window of `size` centred on `centre`, kept within 0..1."""
    return min(max(centre - size / 2, 0.0), 1.0 - size)


def face_crop(width: int, height: int, aspect: float, faces: Sequence[Box]) -> Crop | None:
    """The window of `aspect` centred on every face, each whole with its headroom when
    they fit together; None without faces."""
    if not faces:
        return None
    grown = [with_headroom(f) for f in faces]
    x0 = min(b.x for b in grown)
    y0 = min(b.y for b in grown)
    x1 = max(b.right for b in grown)
    y1 = max(b.bottom for b in grown)
    w, h = window(width, height, aspect)
    box = Box(_place((x0 + x1) / 2, w), _place((y0 + y1) / 2, h), w, h)
    whole = all(box.contains(b) for b in grown)
    if not whole:
        # Padded boxes may not fit together, the faces themselves still may: then slide
        # the window to hold the bare faces (a group photo in a narrow story crop).
        fx0, fx1 = min(f.x for f in faces), max(f.right for f in faces)
        fy0, fy1 = min(f.y for f in faces), max(f.bottom for f in faces)
        if fx1 - fx0 <= w and fy1 - fy0 <= h:
            box = Box(
                min(max(box.x, fx1 - w), fx0),
                min(max(box.y, fy1 - h), fy0),
                w,
                h,
            )
            whole = all(box.contains(f) for f in faces)
    return Crop(box=box, source="faces", faces_whole=whole)


def attention_crop(energy: np.ndarray, width: int, height: int, aspect: float) -> Crop:
    """The window of `aspect` where the attention map (any resolution, same proportions as
    the image) sums highest; ties go to the centre."""
    w, h = window(width, height, aspect)
    rows, cols = energy.shape
    win_c = max(1, min(cols, round(w * cols)))
    win_r = max(1, min(rows, round(h * rows)))
    total = np.zeros((rows + 1, cols + 1), dtype=np.float64)
    total[1:, 1:] = energy.astype(np.float64).cumsum(0).cumsum(1)
    sums = (
        total[win_r:, win_c:]
        - total[:-win_r, win_c:]
        - total[win_r:, :-win_c]
        + total[:-win_r, :-win_c]
    )
    # Prefer the centre among near-equal windows: a flat picture is cut in the middle.
    ry = np.abs(np.arange(sums.shape[0]) - (sums.shape[0] - 1) / 2)
    rx = np.abs(np.arange(sums.shape[1]) - (sums.shape[1] - 1) / 2)
    bias = 1e-6 * (sums.max() + 1) * (ry[:, None] + rx[None, :])
    r, c = np.unravel_index(int(np.argmax(sums - bias)), sums.shape)
    x = min(c / cols, 1.0 - w)
    y = min(r / rows, 1.0 - h)
    return Crop(box=Box(x, y, w, h), source="attention")


def aspect_fit(box: Box, width: int, height: int, aspect: float) -> Box:
    """`box` narrowed (around its centre) to exactly `aspect` in pixels."""
    pw, ph = box.w * width, box.h * height
    if pw / ph > aspect:
        nw = aspect * ph / width
        return Box(box.x + (box.w - nw) / 2, box.y, nw, box.h)
    nh = (pw / aspect) / height
    return Box(box.x, box.y + (box.h - nh) / 2, box.w, nh)


def focus(crop: Crop) -> tuple[float, float]:
    """The crop's centre in percent, for CSS `object-position` on a covering thumbnail:
    the grid shows the part of the picture the crop chose (heads kept)."""
    b = crop.box
    fx = 50.0 if b.w >= 1 else 100 * b.x / (1 - b.w)
    fy = 50.0 if b.h >= 1 else 100 * b.y / (1 - b.h)
    return (round(fx, 1), round(fy, 1))
