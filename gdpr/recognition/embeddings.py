"""Reading sealed face embeddings, and deleting them per person."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import ColumnElement
from sqlmodel import Session, col, delete, select

from dam import biometrics
from dam.models import Face, FaceEmbedding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Embedded:
    """Faces with their embeddings, in matching row order."""

    faces: list[Face]
    vectors: np.ndarray  # (len(faces), 128) float32


def load(session: Session, key: biometrics.FaceKey, *where: ColumnElement[bool]) -> Embedded:
    """Faces matching `where` that have an embedding this key opens, with the vectors."""
    rows = session.exec(
        select(Face, FaceEmbedding)
        .join(FaceEmbedding, col(FaceEmbedding.face_id) == col(Face.id))
        .where(*where)
        .order_by(col(Face.id))
    )
    faces, vectors = [], []
    unreadable = 0
    for face, embedding in rows:
        try:
            vector = biometrics.unseal(
                key, face_id=face.id, model=embedding.model, sealed=embedding.sealed
            )
        except biometrics.EmbeddingUnreadable:
            unreadable += 1  # sealed under another key: `dam faces rebuild` renews it
            continue
        faces.append(face)
        vectors.append(vector)
    if unreadable:
        log.warning("%d face embedding(s) do not open with the current key", unreadable)
    matrix = np.vstack(vectors) if vectors else np.empty((0, 128), dtype=np.float32)
    return Embedded(faces, matrix)


def delete_for_faces(session: Session, face_ids: Sequence[str]) -> int:
    """Remove the embeddings of these faces; how many there were."""
    if not face_ids:
        return 0
    result = session.exec(
        delete(FaceEmbedding).where(col(FaceEmbedding.face_id).in_(list(face_ids)))
    )
    return int(result.rowcount or 0)
