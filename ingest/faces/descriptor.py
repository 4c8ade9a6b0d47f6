"""Face embeddings: dlib's 5-point landmarks, then its ResNet descriptor (128 numbers).

Both models come from the face-recognition-models package (CC0) and run on the prebuilt
dlib-bin wheel. The 68-point landmark model in the same package is never loaded: its
training data (iBUG 300-W) forbids commercial use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import dlib
import numpy as np

from ingest.faces import weights
from ingest.faces.geometry import Box, to_dlib_square

DESCRIPTOR_MODEL = "dlib-resnet-v1+5pt"
DIMENSIONS = 128


class Describer:
    """One instance per thread: dlib's networks keep per-call buffers."""

    def __init__(self) -> None:
        self._landmarks = dlib.shape_predictor(str(weights.LANDMARKS_5.path()))
        self._network = dlib.face_recognition_model_v1(str(weights.RESNET_DESCRIPTOR.path()))

    def describe(self, rgb: np.ndarray, boxes: Sequence[Box]) -> list[np.ndarray]:
        """One unit-scale 128-d float32 vector per face box (MTCNN convention) in `rgb`."""
        if not boxes:
            return []
        image = np.ascontiguousarray(rgb)
        shapes = dlib.full_object_detections()
        for box in boxes:
            square = to_dlib_square(box)
            rect = dlib.rectangle(
                round(square.x), round(square.y), round(square.right), round(square.bottom)
            )
            shapes.append(self._landmarks(image, rect))
        vectors = self._network.compute_face_descriptor(image, shapes, num_jitters=0)
        return [np.asarray(v, dtype=np.float32) for v in vectors]


_local = threading.local()


def describer() -> Describer:
    """This thread's describer (loaded on first use, ~30 MB of weights)."""
    found: Describer | None = getattr(_local, "describer", None)
    if found is None:
        found = _local.describer = Describer()
    return found
