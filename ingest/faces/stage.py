"""The `faces` stage: find faces in the upright photo, store boxes, crops and embeddings."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlmodel import Session, col, delete, select

from dam import biometrics, events
from dam.blobs import write_atomic
from dam.clock import now
from dam.ids import new_id
from dam.jobs import StageContext
from dam.models import Asset, Face, FaceEmbedding, FaceState
from ingest.faces.descriptor import DESCRIPTOR_MODEL, describer
from ingest.faces.detect import detect_faces
from ingest.faces.geometry import Box, padded, pixel_bounds, reconcile, relative
from ingest.faces.mtcnn import Detection
from ingest.image.decode import decode_for_renditions, open_image, upright_dimensions
from ingest.originals import load_original

log = logging.getLogger(__name__)

DETECTOR = "mtcnn+hog"
CROP_EDGE = 256
CROP_QUALITY = 85


@dataclass(frozen=True)
class FoundFace:
    """One detection, ready to store: relative box, score, crop, embedding (if recognised)."""

    box: Box  # relative to the upright image
    score: float
    crop: bytes
    embedding: np.ndarray | None


def detect_asset_faces(ctx: StageContext) -> None:
    """Detect faces in an image asset and store them (identities survive a re-run)."""
    if not ctx.settings.face_detection:
        return
    asset, path, label = load_original(ctx)
    key = biometrics.face_key(ctx.settings) if ctx.settings.face_recognition else None
    with open_image(path, label=label, max_pixels=ctx.settings.max_image_pixels) as image:
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
    with Session(ctx.engine, expire_on_commit=False) as session:
        if session.get(Asset, asset.id) is None:
            return
        face_ids = _store(session, ctx, asset.id, found, key)
        events.publish_after_commit(
            session, events.FacesDetected(asset_id=asset.id, face_ids=tuple(face_ids))
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
    region = pixel_bounds(padded(box, upright.width, upright.height))
    crop = upright.crop(region)
    crop.thumbnail((CROP_EDGE, CROP_EDGE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=CROP_QUALITY)
    return buffer.getvalue()


def _store(
    session: Session,
    ctx: StageContext,
    asset_id: str,
    found: list[FoundFace],
    key: biometrics.FaceKey | None,
) -> list[str]:
    existing = list(session.exec(select(Face).where(Face.asset_id == asset_id)))
    plan = reconcile(
        [
            (f.id, _box_of(f), f.state in (FaceState.confirmed, FaceState.dismissed))
            for f in existing
        ],
        [f.box for f in found],
    )
    by_id = {f.id: f for f in existing}
    directory = ctx.blobs.derived_dir(asset_id) / "faces"
    moment = now()
    stored: list[str] = []
    for index, item in enumerate(found):
        face = by_id.get(plan.kept.get(index, "")) or Face(
            id=new_id(), asset_id=asset_id, box_x=0, box_y=0, box_w=0, box_h=0, score=0,
            detector=DETECTOR,
        )  # fmt: skip
        face.box_x, face.box_y, face.box_w, face.box_h = (
            item.box.x, item.box.y, item.box.w, item.box.h
        )  # fmt: skip
        face.score, face.detector, face.updated_at = item.score, DETECTOR, moment
        target = directory / f"{face.id}.jpg"
        write_atomic(target, item.crop)
        face.crop_path = str(target.relative_to(ctx.blobs.root))
        session.add(face)
        stored.append(face.id)
    session.flush()
    if stored:
        session.exec(delete(FaceEmbedding).where(col(FaceEmbedding.face_id).in_(stored)))
    for face_id, item in zip(stored, found, strict=True):
        if key is not None and item.embedding is not None:
            session.add(
                FaceEmbedding(
                    face_id=face_id,
                    model=DESCRIPTOR_MODEL,
                    key_id=key.key_id,
                    sealed=biometrics.seal(
                        key, face_id=face_id, model=DESCRIPTOR_MODEL, vector=item.embedding
                    ),
                )
            )
    for face_id in plan.removed:
        session.delete(by_id[face_id])
        (directory / f"{face_id}.jpg").unlink(missing_ok=True)
    log.info("asset %s: %d face(s) found, %d removed", asset_id, len(found), len(plan.removed))
    return stored


def _box_of(face: Face) -> Box:
    return Box(face.box_x, face.box_y, face.box_w, face.box_h)
