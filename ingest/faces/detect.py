"""The detector Beeldbank uses: MTCNN, with a second opinion for its unsure answers.

MTCNN finds faces down to ~20 px but, at the scores where it still finds real faces
that fill or leave the frame, it also takes collars, hands and blur for faces. Between
`SURE` and its own threshold a candidate must also be found by dlib's HOG detector (a
different method: gradients, not a network) in the candidate's neighbourhood, scaled so
the face is ~80 px. Measured in bench/faces.py.
"""

from __future__ import annotations

import threading

import cv2
import dlib
import numpy as np

from ingest.faces.geometry import Box, iou, padded, pixel_bounds, to_dlib_square
from ingest.faces.mtcnn import Detection, detector

SURE = 0.95
VERIFY_SIDE = 160  # px of the neighbourhood (twice the face) handed to HOG
HOG_THRESHOLD = -0.5
HOG_MIN_IOU = 0.3


def detect_faces(rgb: np.ndarray, *, min_face: float = 20.0) -> list[Detection]:
    """Faces of at least `min_face` px in an RGB uint8 image."""
    return [
        found
        for found in detector().detect(rgb, min_face=min_face)
        if found.score >= SURE or hog_agrees(rgb, found.box)
    ]


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
