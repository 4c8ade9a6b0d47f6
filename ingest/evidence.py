"""Consent evidence: the signed form (a PDF, a scan or a photo), stored as a restricted
asset that is not part of the library.

A form arrives with its consent (the API's evidence upload or the UI's consent form).
It is copied into the blob store in chunks (never whole into memory), recognised by its
content, and becomes an evidence asset, restricted from the first commit: never
processed (no renditions, no face detection), never listed or searched, and never
deduplicated against the library in either direction (an upload must not confirm that a
file is someone's form). Its bytes may share a stored original with a library photo.
A PDF gets one rendition, its first page (`ingest.evidence_preview`); a PDF that cannot
be previewed is stored all the same, and the upload says why it has no preview.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import BinaryIO

from sqlmodel import Session

from dam import audit
from dam.blobs import CHUNK, BlobStore
from dam.errors import N_, ProcessingError, UnsupportedMedia
from dam.models import Asset, AssetKind, AssetStatus, User
from ingest.evidence_preview import add_preview, render_preview
from ingest.receive import clean_filename, over_upload_limit
from ingest.sniff import HEAD_BYTES, Sniffed, sniff

EVIDENCE_ACCEPTED = "PDF, JPEG, PNG or HEIC"
_EVIDENCE_MIMES = {"image/jpeg", "image/png", "image/heic"}
PDF = Sniffed(AssetKind.document, "application/pdf", "PDF")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredEvidence:
    asset: Asset
    has_preview: bool = False  # a PDF's first page, as the `preview` rendition
    # Why a PDF has no preview (a message for a person); None when it has one, or is no PDF.
    preview_problem: ProcessingError | None = None


def sniff_evidence(head: bytes) -> Sniffed:
    """What a signed form is, from its first bytes; UnsupportedMedia for anything else."""
    if not head:
        raise UnsupportedMedia("The evidence file is empty (0 bytes).")
    # PDF 1.x/2.0 (ISO 32000): "%PDF-" opens the file.
    if head.startswith(b"%PDF-"):
        return PDF
    try:
        sniffed = sniff(head)
    except UnsupportedMedia:
        sniffed = None
    if sniffed is None or sniffed.mime not in _EVIDENCE_MIMES:
        raise UnsupportedMedia(
            N_("Upload the signed form as %(accepted)s."), params={"accepted": EVIDENCE_ACCEPTED}
        )
    return sniffed


def store_evidence(
    session: Session,
    *,
    blobs: BlobStore,
    owner: User,
    file: BinaryIO,
    filename: str | None,
    max_bytes: int,
    person_id: str | None = None,
) -> StoredEvidence:
    """A new evidence asset holding `file` (committed, ready: nothing to process)."""
    head = file.read(HEAD_BYTES)
    sniffed = sniff_evidence(head)
    writer = blobs.writer()
    try:
        chunk = head
        while chunk:
            writer.write(chunk)
            if writer.size > max_bytes:
                raise over_upload_limit(max_bytes)
            chunk = file.read(CHUNK)
    except BaseException:
        writer.abort()
        raise
    stored = writer.commit()
    asset = Asset(
        kind=sniffed.kind,
        status=AssetStatus.ready,
        filename=clean_filename(filename),
        mime=sniffed.mime,
        size=stored.size,
        sha256=stored.sha256,
        owner_id=owner.id,
        restricted=True,
        is_evidence=True,
    )
    session.add(asset)
    session.flush()
    audit.record(
        session,
        action="asset.uploaded",
        actor_id=owner.id,
        subject_type="asset",
        subject_id=asset.id,
        details={
            "sha256": stored.sha256,
            "size": stored.size,
            "source": "consent_evidence",
            **({"person_id": person_id} if person_id else {}),
        },
    )
    session.commit()
    if sniffed.mime != PDF.mime:
        return StoredEvidence(asset)
    # The first page, for the officer's eye, drawn after the commit: the form is stored
    # whatever PDFium does, and no transaction waits on it (on SQLite every transaction
    # holds the write lock, so a render inside one would stop every other writer).
    try:
        page = render_preview(blobs.original_path(stored.sha256))
    except ProcessingError as problem:
        log.info("no preview for evidence %s: %s", asset.id, problem.message)
        return StoredEvidence(asset, preview_problem=problem)
    add_preview(session, blobs, asset, page)
    session.commit()
    return StoredEvidence(asset, has_preview=True)
