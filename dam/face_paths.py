"""The path of a video face track: where the face was in each sampled frame.

Stored in `face_path.samples` as little-endian float32 rows of five numbers, time in
seconds and the box relative to the upright picture (0..1): 20 bytes a sample, so even a
track through a whole long video (at most a few thousand samples) stays small. float32
keeps times to a few milliseconds over hours and boxes far below a pixel.

Ingest writes paths (ingest.faces.store), gdpr reads them (redaction, the access export);
the format is defined here, once, for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
from sqlmodel import Session, col, select

from dam.chunks import chunks
from dam.models import FacePath

_ROW = 5
_DTYPE = np.dtype("<f4")


class PathSample(NamedTuple):
    """One sighting of a track: when, and the face's box relative to the picture."""

    time_s: float
    x: float
    y: float
    w: float
    h: float


def pack(samples: Iterable[PathSample]) -> bytes:
    """The samples as stored, in time order."""
    rows = sorted(samples, key=lambda s: s.time_s)
    return np.asarray(rows, dtype=_DTYPE).reshape(-1, _ROW).tobytes()


def unpack(data: bytes) -> tuple[PathSample, ...]:
    """The stored samples; ValueError for bytes that are not whole rows."""
    if len(data) % (_ROW * _DTYPE.itemsize):
        raise ValueError("a face path is whole rows of five float32 numbers")
    rows = np.frombuffer(data, dtype=_DTYPE).reshape(-1, _ROW).astype(float)
    return tuple(PathSample(*(float(v) for v in row)) for row in rows)


def paths_of(session: Session, face_ids: Sequence[str]) -> dict[str, tuple[PathSample, ...]]:
    """face id -> path, for those of `face_ids` that have one (video tracks)."""
    return {
        row.face_id: unpack(row.samples)
        for chunk in chunks(face_ids)
        for row in session.exec(select(FacePath).where(col(FacePath.face_id).in_(chunk)))
    }
