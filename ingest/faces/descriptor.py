"""Face embeddings: dlib's 5-point landmarks, then its ResNet descriptor (128 numbers).

Both models come from the face-recognition-models package (CC0). dlib (the prebuilt
dlib-bin wheel) places the landmarks and cuts the aligned 150 px chips; the ResNet runs
in numpy (ingest/faces/resnet.py: the same vectors, ~5x faster than the wheel's own
BLAS-less network), all faces of a photo in one pass. The 68-point landmark model in the
same package is never loaded: its training data (iBUG 300-W) forbids commercial use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import dlib
import numpy as np
from threadpoolctl import ThreadpoolController

from dam.geometry import Box
from ingest.faces import resnet, weights
from ingest.faces.geometry import to_dlib_square

DESCRIPTOR_MODEL = "dlib-resnet-v1+5pt"
DIMENSIONS = 128


class Describer:
    """One instance per thread: dlib's landmark model keeps per-call buffers."""

    def __init__(self) -> None:
        self._landmarks = dlib.shape_predictor(str(weights.LANDMARKS_5.path()))
        self._network = _network()

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
        chips = dlib.get_face_chips(
            image, shapes, size=resnet.CHIP_SIZE, padding=resnet.CHIP_PADDING
        )
        # One BLAS thread: workers run side by side (one per core), and BLAS threads that
        # wait for a busy core spin instead of computing.
        with _blas.limit(limits=1, user_api="blas"):
            vectors = resnet.describe_chips(self._network, np.stack(chips))
        return list(vectors.astype(np.float32))


_blas = ThreadpoolController()
_lock = threading.Lock()
_loaded: list[resnet.Network] = []


def _network() -> resnet.Network:
    """The descriptor network's weights: read once per process, shared by threads."""
    with _lock:
        if not _loaded:
            _loaded.append(resnet.load(weights.RESNET_DESCRIPTOR.path()))
        return _loaded[0]


_local = threading.local()


def describer() -> Describer:
    """This thread's describer (loaded on first use, ~30 MB of weights)."""
    found: Describer | None = getattr(_local, "describer", None)
    if found is None:
        found = _local.describer = Describer()
    return found
