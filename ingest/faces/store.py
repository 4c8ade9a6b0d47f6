"""Storing one detection run as an asset's faces, for photos and videos alike: the rows,
their crops (small JPEGs), sealed embeddings and (videos) paths, keeping what people
decided.

A re-run updates the stored face that a new one matches (so ids, names and decisions
survive; its embedding and path are replaced), adds the rest and removes stored faces no
longer found unless a person confirmed or dismissed them. Photos match by place
(`match_by_place`), videos' face tracks by time span (`match_by_span`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlmodel import Session, col, delete, select

from dam import biometrics, events
from dam.blobs import BlobStore, write_atomic
from dam.clock import now
from dam.face_paths import PathSample, pack
from dam.geometry import Box
from dam.ids import new_id
from dam.models import Asset, Face, FaceEmbedding, FacePath, FaceState
from ingest.faces.descriptor import DESCRIPTOR_MODEL
from ingest.faces.geometry import Reconciled, reconcile
from ingest.faces.tracking import FoundTrack, StoredTrack, reconcile_tracks

log = logging.getLogger(__name__)

DETECTOR = "mtcnn+hog"
CROP_EDGE = 256
CROP_QUALITY = 85


@dataclass(frozen=True)
class Span:
    """When a face track is on screen: first and last sampled frame, and how many."""

    start_s: float
    end_s: float
    frames: int


@dataclass(frozen=True)
class FoundFace:
    """One face to store: relative box, score, crop, embedding (if recognised) and, in a
    video, the track's span and path."""

    box: Box  # relative to the upright picture
    score: float
    crop: bytes
    embedding: np.ndarray | None
    span: Span | None = None
    path: tuple[PathSample, ...] | None = None  # relative boxes, in time order


Match = Callable[[Sequence[Face], Sequence[FoundFace]], Reconciled]


def encode_crop(region: Image.Image) -> bytes:
    """The face's picture in lists: its padded RGB region made small (in place: pass a
    fresh crop), as a JPEG."""
    region.thumbnail((CROP_EDGE, CROP_EDGE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    region.save(buffer, "JPEG", quality=CROP_QUALITY)
    return buffer.getvalue()


def match_by_place(existing: Sequence[Face], found: Sequence[FoundFace]) -> Reconciled:
    """Photos: a new face takes over the stored one its box overlaps most."""
    return reconcile([(f.id, _box_of(f), _decided(f)) for f in existing], [f.box for f in found])


def match_by_span(existing: Sequence[Face], found: Sequence[FoundFace]) -> Reconciled:
    """Videos: a new track takes over the stored one it overlaps most in time."""
    return reconcile_tracks(
        [
            StoredTrack(
                f.id,
                f.time_s or 0.0,
                f.time_end_s if f.time_end_s is not None else f.time_s or 0.0,
                _box_of(f),
                _decided(f),
            )
            for f in existing
        ],
        [FoundTrack(span.start_s, span.end_s, f.box) for f in found for span in [_span(f)]],
    )


def store_faces(
    session: Session,
    *,
    blobs: BlobStore,
    asset_id: str,
    found: Sequence[FoundFace],
    key: biometrics.FaceKey | None,
    match: Match,
) -> list[str]:
    """Store `found` as the asset's faces, note that its faces were checked, and publish
    FacesDetected (after the caller's commit); the stored faces' ids, in the order of
    `found`."""
    existing = list(session.exec(select(Face).where(Face.asset_id == asset_id)))
    plan = match(existing, found)
    by_id = {f.id: f for f in existing}
    directory = blobs.derived_dir(asset_id) / "faces"
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
        if item.span is not None:
            face.time_s, face.time_end_s = item.span.start_s, item.span.end_s
            face.frames = item.span.frames
        face.score, face.detector, face.updated_at = item.score, DETECTOR, moment
        target = directory / f"{face.id}.jpg"
        write_atomic(target, item.crop)
        face.crop_path = str(target.relative_to(blobs.root))
        session.add(face)
        stored.append(face.id)
    session.flush()
    if stored:
        session.exec(delete(FaceEmbedding).where(col(FaceEmbedding.face_id).in_(stored)))
        session.exec(delete(FacePath).where(col(FacePath.face_id).in_(stored)))
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
        if item.path:
            session.add(FacePath(face_id=face_id, samples=pack(item.path)))
    for face_id in plan.removed:
        session.delete(by_id[face_id])
        (directory / f"{face_id}.jpg").unlink(missing_ok=True)
    asset = session.get(Asset, asset_id)
    if asset is not None:
        # In this transaction: a verdict judged from these faces counts them as checked.
        asset.faces_checked_at = moment
        session.add(asset)
    log.info("asset %s: %d face(s) stored, %d removed", asset_id, len(found), len(plan.removed))
    events.publish_after_commit(
        session, events.FacesDetected(asset_id=asset_id, face_ids=tuple(stored))
    )
    return stored


def _box_of(face: Face) -> Box:
    return Box(face.box_x, face.box_y, face.box_w, face.box_h)


def _decided(face: Face) -> bool:
    return face.state in (FaceState.confirmed, FaceState.dismissed)


def _span(face: FoundFace) -> Span:
    if face.span is None:
        raise ValueError("a face track needs its span")
    return face.span
