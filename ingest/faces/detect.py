"""The detector Beeldbank uses: MTCNN, with a second opinion for its unsure answers.

MTCNN finds faces down to ~20 px but, at the scores where it still finds real faces
that fill or leave the frame, it also takes collars, hands and blur for faces. Between
`SURE` and its own threshold a candidate must also be found by dlib's HOG detector (a
different method: gradients, not a network) in the candidate's neighbourhood, scaled so
the face is ~80 px. Measured in bench/faces.py.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import cv2
import dlib
import numpy as np

from dam.geometry import Box, iou
from ingest.faces.geometry import overlap_of_smaller, padded, pixel_bounds, to_dlib_square
from ingest.faces.mtcnn import PNET_WINDOW, Detection, Region, detector
from ingest.faces.regions import SkinMap

SURE = 0.95
VERIFY_SIDE = 160  # px of the neighbourhood (twice the face) handed to HOG
HOG_THRESHOLD = -0.5
HOG_MIN_IOU = 0.3
DUPLICATE_OVERLAP = 0.7  # as MTCNN's own last suppression: inside a surer box, same face
# P-Net's threshold in the sharper picture. There the faces of 24 frames like those of
# tests/test_faces_camera.py (384 faces) were found alike from 0.95 and from 0.8, with
# 4 false faces instead of 10, and R-Net had a fifth of the proposals to check on the
# textured bench photos (62 against 318). In a photo searched as it is (no bigger than
# the working size) one face of dlib's photos is proposed at 0.94 at most: there P-Net
# keeps mtcnn.THRESHOLDS.
DETAIL_PROPOSALS = 0.95


def detect_faces(
    rgb: np.ndarray,
    *,
    min_face: float = 20.0,
    whole_frame_from: float | None = None,
    detail: Callable[[], np.ndarray] | None = None,
) -> list[Detection]:
    """Faces of at least `min_face` px in an RGB uint8 image.

    With `whole_frame_from`, the whole frame is searched for faces from that size up, and
    smaller ones only where they can be (`ingest.faces.regions`). Faces too small for
    P-Net's window in `rgb` are looked for there in `detail()`, the same picture at a
    higher resolution (the original photo), asked for only when such places exist.
    """
    if whole_frame_from is None or whole_frame_from <= max(min_face, PNET_WINDOW):
        return _checked(rgb, detector().detect(rgb, min_face=max(min_face, PNET_WINDOW)))
    found = _checked(rgb, detector().detect(rgb, min_face=whole_frame_from))
    skin = SkinMap(rgb, largest_face=whole_frame_from)
    if skin.any():
        source, factor = rgb, 1.0
        if min_face < PNET_WINDOW and detail is not None:
            sharper = detail()
            if sharper.shape[1] > rgb.shape[1]:
                source, factor = sharper, sharper.shape[1] / rgb.shape[1]

        def regions(face: float) -> list[Region]:
            return [_scaled_region(r, factor, source.shape) for r in skin.regions(face / factor)]

        small = detector().detect(
            source,
            min_face=min_face * factor,
            max_face=whole_frame_from * factor,
            regions=regions,
            propose_above=None if source is rgb else DETAIL_PROPOSALS,
        )
        found += [_scaled(d, 1 / factor) for d in _checked(source, small)]
    return _distinct(found)


def _checked(rgb: np.ndarray, found: list[Detection]) -> list[Detection]:
    return [face for face in found if face.score >= SURE or hog_agrees(rgb, face.box)]


def _scaled(found: Detection, factor: float) -> Detection:
    return Detection(
        box=found.box.scaled(factor),
        score=found.score,
        landmarks=tuple((x * factor, y * factor) for x, y in found.landmarks),
    )


def _scaled_region(region: Region, factor: float, shape: tuple[int, ...]) -> Region:
    x0, y0, x1, y1 = region
    height, width = shape[:2]
    return (
        math.floor(x0 * factor),
        math.floor(y0 * factor),
        min(width, math.ceil(x1 * factor)),
        min(height, math.ceil(y1 * factor)),
    )


def _distinct(found: list[Detection]) -> list[Detection]:
    """One detection per face, the surest, when both searches found it (best first)."""
    kept: list[Detection] = []
    for face in sorted(found, key=lambda d: -d.score):
        if all(overlap_of_smaller(face.box, k.box) <= DUPLICATE_OVERLAP for k in kept):
            kept.append(face)
    return kept


def hog_agrees(rgb: np.ndarray, box: Box) -> bool:
    """Whether dlib's HOG detector also sees a face where MTCNN put `box`."""
    height, width = rgb.shape[:2]
    left, top, right, bottom = pixel_bounds(padded(box, width, height, margin=0.5))
    region = rgb[top:bottom, left:right]
    if region.size == 0:
        return False
    factor = VERIFY_SIDE / max(region.shape[:2])
    shrink = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    region = cv2.resize(region, None, fx=factor, fy=factor, interpolation=shrink)
    square = to_dlib_square(box)
    expected = Box(
        (square.x - left) * factor, (square.y - top) * factor, square.w * factor, square.h * factor
    )
    rects, _scores, _kinds = _hog().run(np.ascontiguousarray(region), 1, HOG_THRESHOLD)
    return any(
        iou(Box(r.left(), r.top(), r.width(), r.height()), expected) >= HOG_MIN_IOU for r in rects
    )


_local = threading.local()


def _hog() -> dlib.fhog_object_detector:
    found = getattr(_local, "hog", None)
    if found is None:
        found = _local.hog = dlib.get_frontal_face_detector()
    return found
