"""Consent evidence: the scan or photo of a signed form, stored as a restricted asset.

A form posted from the browser arrives as a file Starlette has already spooled; this
copies it into the blob store in chunks (never whole into memory), checks it is a picture
and creates its asset restricted from the first commit, so no other role ever sees it.
"""

from __future__ import annotations

from typing import BinaryIO

from sqlmodel import Session

from dam.blobs import CHUNK, BlobStore, human_size
from dam.errors import TooLarge, UnsupportedMedia
from dam.models import Asset, AssetKind, User
from ingest.receive import create_asset
from ingest.sniff import ACCEPTED, HEAD_BYTES, sniff


def store_evidence(
    session: Session,
    *,
    blobs: BlobStore,
    owner: User,
    file: BinaryIO,
    filename: str | None,
    max_bytes: int,
) -> Asset:
    """The restricted asset holding `file` (an existing one when the content is known)."""
    head = file.read(HEAD_BYTES)
    if not head:
        raise UnsupportedMedia("The evidence file is empty (0 bytes).")
    sniffed = sniff(head)
    if sniffed.kind != AssetKind.image:
        # A signed form is a scan or a photo; a video of it would be hard to check.
        raise UnsupportedMedia(f"Upload the signed form as a picture ({ACCEPTED}).")
    writer = blobs.writer()
    try:
        chunk = head
        while chunk:
            writer.write(chunk)
            if writer.size > max_bytes:
                raise TooLarge(
                    f"The file is larger than the upload limit of {human_size(max_bytes)}."
                )
            chunk = file.read(CHUNK)
    except BaseException:
        writer.abort()
        raise
    stored = writer.commit()
    received = create_asset(
        session,
        stored=stored,
        sniffed=sniffed,
        filename=filename,
        owner=owner,
        source="consent_evidence",
        restricted=True,
    )
    return received.asset
