"""Sealing face embeddings (biometric data, GDPR art. 9) with AES-256-GCM.

Each embedding is encrypted on its own with a random 96-bit nonce; the face id and the
model name are authenticated as associated data, so a sealed vector copied onto another
face's row fails to open instead of silently identifying the wrong person.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dam.errors import ProcessingError
from dam.settings import Settings

log = logging.getLogger(__name__)

NONCE_BYTES = 12
_warned = False


class FaceKeyMissing(ProcessingError):
    """Production without DAM_FACE_KEY: embeddings are not stored under a derived key."""


class EmbeddingUnreadable(Exception):
    """A sealed embedding does not open with this key (wrong key, or tampered row)."""


@dataclass(frozen=True)
class FaceKey:
    key: bytes

    @property
    def key_id(self) -> str:
        """A short fingerprint stored with each row, to tell which key sealed it."""
        return hashlib.sha256(b"beeldbank-face-key-id" + self.key).hexdigest()[:16]


def face_key(settings: Settings) -> FaceKey:
    """The configured key; in development one derived from the secret key, with a warning."""
    global _warned
    if settings.face_key:
        return FaceKey(base64.b64decode(settings.face_key))
    if settings.environment == "production":
        raise FaceKeyMissing(
            "Face recognition needs DAM_FACE_KEY in production (base64 of 32 random bytes), "
            "or DAM_FACE_RECOGNITION=false for detection only."
        )
    if not _warned:
        log.warning(
            "DAM_FACE_KEY is not set: face embeddings are encrypted with a key derived from "
            "DAM_SECRET_KEY. Fine for development; set DAM_FACE_KEY before real use."
        )
        _warned = True
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"beeldbank face embeddings"
    ).derive(settings.secret_key.encode())
    return FaceKey(derived)


def _associated(face_id: str, model: str) -> bytes:
    return f"{face_id}\x00{model}".encode()


def seal(key: FaceKey, *, face_id: str, model: str, vector: np.ndarray) -> bytes:
    """nonce || ciphertext+tag of the vector as little-endian float32."""
    nonce = os.urandom(NONCE_BYTES)
    plain = np.asarray(vector, dtype="<f4").tobytes()
    return nonce + AESGCM(key.key).encrypt(nonce, plain, _associated(face_id, model))


def unseal(key: FaceKey, *, face_id: str, model: str, sealed: bytes) -> np.ndarray:
    """The vector sealed for `face_id`; EmbeddingUnreadable if key or row do not fit."""
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        plain = AESGCM(key.key).decrypt(nonce, body, _associated(face_id, model))
    except InvalidTag:
        raise EmbeddingUnreadable(face_id) from None
    return np.frombuffer(plain, dtype="<f4").astype(np.float32)
