"""The `faces` stage: find faces in the upright photo, store boxes, crops and embeddings."""

from __future__ import annotations

import numpy as np
from PIL import Image

from dam import biometrics
from dam.jobs import StageContext
from dam.models import Asset
from ingest.faces.descriptor import describer
from ingest.faces.detect import detect_faces
from ingest.faces.geometry import Box, padded, pixel_bounds, relative
from ingest.faces.mtcnn import Detection
from ingest.faces.store import FoundFace, encode_crop, match_by_place, store_faces
from ingest.image.decode import decode_for_renditions, open_image, upright_dimensions
from ingest.originals import load_original


def detect_asset_faces(ctx: StageContext) -> None:
    """Detect faces in an image asset and store them (identities survive a re-run)."""
    if not ctx.settings.face_detection:
        return
    asset, path, label = load_original(ctx)
    key = biometrics.face_key(ctx.settings) if ctx.settings.face_recognition else None
    edge = ctx.settings.face_max_edge_px
    with open_image(
        path, label=label, max_pixels=ctx.settings.max_image_pixels, long_edge=edge
    ) as image:
        full_width, _ = upright_dimensions(image)
        upright = decode_for_renditions(
            image, label=label, path=path, long_edge=ctx.settings.face_max_edge_px
        ).convert("RGB")
    ctx.report_progress(0.2)
    found = find_faces(
        upright,
        min_face=ctx.settings.face_min_size_px * upright.width / full_width,
        recognise=key is not None,
    )
    ctx.report_progress(0.8)
    with ctx.session() as session:
        if session.get(Asset, asset.id) is None:
            return
        store_faces(
            session, blobs=ctx.blobs, asset_id=asset.id, found=found, key=key, match=match_by_place
        )
        session.commit()


def find_faces(upright: Image.Image, *, min_face: float, recognise: bool) -> list[FoundFace]:
    """Faces in an upright RGB image, with crops and (if `recognise`) embeddings."""
    rgb = np.asarray(upright)
    detections: list[Detection] = detect_faces(rgb, min_face=max(12.0, min_face))
    vectors: list[np.ndarray | None] = [None] * len(detections)
    if recognise and detections:
        vectors = list(describer().describe(rgb, [d.box for d in detections]))
    width, height = upright.size
    return [
        FoundFace(
            box=relative(d.box, width, height),
            score=d.score,
            crop=crop_jpeg(upright, d.box),
            embedding=vector,
        )
        for d, vector in zip(detections, vectors, strict=True)
    ]


def crop_jpeg(upright: Image.Image, box: Box) -> bytes:
    """A padded crop of one face as a small JPEG (the face's picture in lists)."""
    return encode_crop(upright.crop(pixel_bounds(padded(box, upright.width, upright.height))))
