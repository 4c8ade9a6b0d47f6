"""Pure face-box arithmetic: overlap, suppression, conventions, crops, relative boxes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dam.geometry import Box, iou


def overlap_of_smaller(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area (1.0 when one holds the other)."""
    ix = min(a.right, b.right) - max(a.x, b.x)
    iy = min(a.bottom, b.bottom) - max(a.y, b.y)
    if ix <= 0 or iy <= 0:
        return 0.0
    return ix * iy / max(min(a.area, b.area), 1e-9)


def suppress(boxes: Sequence[Box], scores: Sequence[float], threshold: float) -> list[int]:
    """Greedy non-maximum suppression by IoU; the indices kept, best score first."""
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    kept: list[int] = []
    for i in order:
        if all(iou(boxes[i], boxes[k]) <= threshold for k in kept):
            kept.append(i)
    return kept


def clamp(box: Box, width: float, height: float) -> Box:
    """The part of `box` inside a `width` x `height` image."""
    x0, y0 = max(0.0, box.x), max(0.0, box.y)
    x1, y1 = min(float(width), box.right), min(float(height), box.bottom)
    return Box(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


def relative(box: Box, width: int, height: int) -> Box:
    """The box in 0..1 units of the image (what the API and the database hold)."""
    inside = clamp(box, width, height)
    return Box(inside.x / width, inside.y / height, inside.w / width, inside.h / height)


def absolute(box: Box, width: int, height: int) -> Box:
    """A 0..1 box back in pixels of a `width` x `height` image."""
    return Box(box.x * width, box.y * height, box.w * width, box.h * height)


# How MTCNN's boxes (forehead to chin, taller than wide) relate to the boxes dlib's tools
# are built around: a square over eyebrows, eyes, nose and mouth. dlib's 5-point landmark
# model was trained on such squares, and the evaluation annotations use them, so both get
# this mapping. Fitted by least squares against dlib's own HOG detector on photos that are
# not part of the evaluation set (bench/faces.py --calibrate repeats the fit).
MTCNN_TO_DLIB_SIZE = 0.9
MTCNN_TO_DLIB_SHIFT_Y = 0.04


def to_dlib_square(box: Box) -> Box:
    """The dlib-convention square for an MTCNN face box."""
    cx, cy = box.center
    side = MTCNN_TO_DLIB_SIZE * math.sqrt(max(box.w * box.h, 0.0))
    cy += MTCNN_TO_DLIB_SHIFT_Y * box.h
    return Box(cx - side / 2, cy - side / 2, side, side)


def padded(box: Box, width: int, height: int, *, margin: float = 0.4) -> Box:
    """The crop region for a face: `margin` of its size added on every side, inside the image."""
    grown = Box(
        box.x - margin * box.w,
        box.y - margin * box.h,
        box.w * (1 + 2 * margin),
        box.h * (1 + 2 * margin),
    )
    return clamp(grown, width, height)


def pixel_bounds(box: Box) -> tuple[int, int, int, int]:
    """Integer (left, top, right, bottom) covering the box, for cropping."""
    return (
        math.floor(box.x),
        math.floor(box.y),
        max(math.floor(box.x) + 1, math.ceil(box.right)),
        max(math.floor(box.y) + 1, math.ceil(box.bottom)),
    )


@dataclass(frozen=True)
class Reconciled:
    """How a new detection run maps onto the faces an asset already has."""

    kept: dict[int, str]  # new detection index -> id of the existing face it updates
    removed: list[str]  # existing faces no longer detected (and not decided by a person)


def reconcile(
    existing: Sequence[tuple[str, Box, bool]], found: Sequence[Box], *, threshold: float = 0.5
) -> Reconciled:
    """Match re-detected faces to stored ones so identities survive a rebuild.

    `existing` holds (face id, relative box, decided by a person). A new box takes over the
    best-overlapping stored face (IoU above `threshold`); stored faces a person confirmed
    or dismissed are never removed, even when the detector no longer finds them.
    """
    pairs = sorted(
        (
            (iou(box, old_box), i, j)
            for i, box in enumerate(found)
            for j, (_id, old_box, _decided) in enumerate(existing)
        ),
        reverse=True,
    )
    kept: dict[int, str] = {}
    taken: set[int] = set()
    for overlap, i, j in pairs:
        if overlap < threshold:
            break
        if i in kept or j in taken:
            continue
        kept[i] = existing[j][0]
        taken.add(j)
    removed = [
        face_id
        for j, (face_id, _box, decided) in enumerate(existing)
        if j not in taken and not decided
    ]
    return Reconciled(kept=kept, removed=removed)
