"""Decrypted face embeddings kept in this worker's memory, never on disk.

Comparing one person with every undecided face of a library (gdpr.recognition.person_suggestions)
needs all their vectors; opening 100,000 sealed embeddings costs seconds. The runtime
keeps them in one numpy matrix, per face id with the nonce it was sealed with: a face
whose embedding was replaced (a re-detection seals a new one, with a new nonce), or that
is gone, or decided, drops out at the next reading, and only new or changed ones are
opened. A different key empties it. Closing the runtime empties it too.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, col, select

from dam import biometrics
from dam.chunks import chunks
from dam.models import FaceEmbedding

DIMENSIONS = 128


@dataclass(frozen=True)
class Row:
    """A face the caller wants the vector of, and the nonce its embedding was sealed with."""

    face_id: str
    nonce: bytes


class FaceVectors:
    """The runtime's cache of opened embeddings (a service: `rt.services["face_vectors"]`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key_id: str | None = None
        self._nonces: dict[str, bytes] = {}
        self._vectors: dict[str, np.ndarray] = {}

    def matrix(
        self, session: Session, key: biometrics.FaceKey, rows: Sequence[Row]
    ) -> tuple[list[str], np.ndarray]:
        """(face ids, their vectors) for `rows`, opening only what the cache lacks.

        Rows whose embedding does not open with `key` are left out. The cache keeps
        exactly the faces of this call afterwards.
        """
        with self._lock:
            if self._key_id != key.key_id:
                self._nonces, self._vectors, self._key_id = {}, {}, key.key_id
            missing = [r.face_id for r in rows if self._nonces.get(r.face_id) != r.nonce]
            opened = _open(session, key, missing)
            nonces, vectors = {}, {}
            for row in rows:
                if row.face_id in opened:
                    nonces[row.face_id], vectors[row.face_id] = opened[row.face_id]
                elif self._nonces.get(row.face_id) == row.nonce:
                    nonces[row.face_id] = row.nonce
                    vectors[row.face_id] = self._vectors[row.face_id]
            self._nonces, self._vectors = nonces, vectors
            ids = [r.face_id for r in rows if r.face_id in vectors]
            if not ids:
                return [], np.empty((0, DIMENSIONS), np.float32)
            return ids, np.vstack([vectors[i] for i in ids])

    def forget(self) -> None:
        """Drop every opened vector (an erasure, a key change, closing)."""
        with self._lock:
            self._nonces, self._vectors, self._key_id = {}, {}, None

    def close(self) -> None:
        self.forget()

    def __len__(self) -> int:
        return len(self._vectors)


def _open(
    session: Session, key: biometrics.FaceKey, face_ids: list[str]
) -> dict[str, tuple[bytes, np.ndarray]]:
    out: dict[str, tuple[bytes, np.ndarray]] = {}
    for part in chunks(face_ids):
        found = session.exec(
            select(FaceEmbedding.face_id, FaceEmbedding.model, FaceEmbedding.sealed).where(
                col(FaceEmbedding.face_id).in_(part)
            )
        )
        for face_id, model, sealed in found:
            try:
                vector = biometrics.unseal(key, face_id=face_id, model=model, sealed=sealed)
            except biometrics.EmbeddingUnreadable:
                continue  # sealed under another key: `dam faces rebuild` renews it
            out[face_id] = (bytes(sealed[: biometrics.NONCE_BYTES]), vector)
    return out
