"""Where a finished access export (the `person_export` job) waits for its download: one
ZIP per job under the data dir's `exports/`, kept for EXPORT_KEPT.

Shared by the requests that make and serve them (gdpr.requests.person_requests) and the
erasure that takes them along (gdpr.requests.erasure_copies)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dam.blobs import BlobStore

EXPORT_TASK = "person_export"
EXPORT_KEPT = timedelta(hours=24)


def exports_dir(blobs: BlobStore) -> Path:
    """Where finished exports wait for their download (beside originals and derived)."""
    path = blobs.root / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(blobs: BlobStore, job_id: str) -> Path:
    return exports_dir(blobs) / f"{job_id}.zip"
