"""`dam doctor` check: are the face models installed, and which versions run them."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import dlib

from dam.doctor import Finding
from dam.errors import ProcessingError
from dam.runtime import Runtime
from ingest.faces import weights


def check_face_models(rt: Runtime) -> Iterable[Finding]:
    wanted = weights.DETECTION + (weights.RECOGNITION if rt.settings.face_recognition else ())
    for model in wanted:
        try:
            path = model.path()
        except ProcessingError as exc:
            yield Finding(model.name, "error", exc.message)
            continue
        yield Finding(model.name, "ok", f"{model.distribution} {model.version()}: {path.name}")
    yield Finding("face runtimes", "ok", f"OpenCV {cv2.__version__}, dlib {dlib.__version__}")
    if rt.settings.face_recognition and not rt.settings.face_key:
        detail = "DAM_FACE_KEY is not set (see README)"
        if rt.settings.environment == "production":
            yield Finding("face key", "error", detail)
        else:
            yield Finding("face key", "missing", detail + "; using a development key")
