"""Resumable uploads, tus 1.0.0 (core, creation, creation-with-upload, termination,
checksum with sha256, expiration). A finished upload becomes an asset."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from dam.blobs import BlobStore, hash_file, human_size
from dam.clock import now
from dam.errors import BadRequest, Conflict, DomainError, Gone, NotFound, TooLarge, UnsupportedMedia
from dam.models import Upload, User
from dam.settings import Settings
from ingest.receive import Received, create_asset
from ingest.sniff import HEAD_BYTES, sniff

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
CHECKSUM_ALGORITHMS = "sha256"


class ChecksumMismatch(DomainError):
    status, code = 460, "checksum_mismatch"


@dataclass(frozen=True)
class PatchResult:
    upload: Upload
    received: Received | None  # set when this PATCH completed the upload


def parse_metadata(header: str | None) -> dict[str, str]:
    """`Upload-Metadata: filename d29ybGQ=,title ...` -> {"filename": "world", ...}."""
    result: dict[str, str] = {}
    if not header:
        return result
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if not parts[0]:
            continue
        if len(parts) > 2:
            raise BadRequest("Upload-Metadata pairs are 'key base64value', separated by commas.")
        try:
            value = base64.b64decode(parts[1], validate=True).decode("utf-8") if len(parts) == 2 else ""
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(f"Upload-Metadata value for {parts[0]!r} is not valid base64.") from None
        result[parts[0][:64]] = value[:4096]
    return result


def upload_path(settings: Settings, upload_id: str) -> Path:
    if not upload_id.isalnum():
        raise NotFound("There is no upload with this id.")
    return settings.uploads_dir / upload_id


def create_upload(
    session: Session, *, settings: Settings, owner: User, length: int | None, metadata: str | None
) -> Upload:
    if length is None:
        raise BadRequest("Upload-Length is required (deferred length is not supported).")
    if length < 0:
        raise BadRequest("Upload-Length must be zero or more.")
    if length > settings.max_upload_bytes:
        raise TooLarge(f"The file is larger than the upload limit of {human_size(settings.max_upload_bytes)}.")
    if length == 0:
        raise UnsupportedMedia("The file is empty (0 bytes).")
    upload = Upload(
        user_id=owner.id,
        length=length,
        upload_metadata=parse_metadata(metadata),
        expires_at=now() + timedelta(hours=settings.upload_expiry_hours),
    )
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    upload_path(settings, upload.id).touch(exist_ok=False)
    session.add(upload)
    session.commit()
    return upload


def get_upload(session: Session, *, upload_id: str, owner: User) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.user_id != owner.id:
        raise NotFound("There is no upload with this id.")
    if upload.expires_at < now() and upload.asset_id is None:
        raise Gone("This upload expired; start it again.")
    return upload


# Hash state of uploads in progress, so completing a 2 GB upload need not re-read it.
# A restart or another worker loses the state; the file is then hashed once at the end.
_hashers: dict[str, tuple[int, hashlib._Hash]] = {}
_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _lock_for(upload_id: str) -> threading.Lock:
    with _registry_lock:
        return _locks.setdefault(upload_id, threading.Lock())


async def append(
    session: Session,
    *,
    settings: Settings,
    blobs: BlobStore,
    owner: User,
    upload_id: str,
    offset: int | None,
    content_type: str | None,
    checksum: str | None,
    stream: AsyncIterator[bytes],
) -> PatchResult:
    """Append the request body at `offset`; finish the upload when it is complete."""
    if content_type != "application/offset+octet-stream":
        raise UnsupportedMedia("PATCH bodies must be sent as application/offset+octet-stream.")
    upload = await run_in_threadpool(get_upload, session, upload_id=upload_id, owner=owner)
    if upload.asset_id is not None:
        raise Conflict("This upload is complete already.", offset=upload.offset)
    if offset is None or offset != upload.offset:
        raise Conflict(
            f"Upload-Offset {offset} does not match the server's offset {upload.offset}.",
            offset=upload.offset,
        )
    expected = _parse_checksum(checksum)
    lock = _lock_for(upload_id)
    if not lock.acquire(blocking=False):
        raise Conflict("Another request is writing to this upload.", offset=upload.offset)
    try:
        new_offset = await _write_body(settings, upload, stream, expected)
        await run_in_threadpool(_save_offset, session, upload, new_offset)
        received = None
        if new_offset == upload.length:
            received = await run_in_threadpool(_finish, session, settings, blobs, owner, upload)
        return PatchResult(upload=upload, received=received)
    finally:
        lock.release()


async def _write_body(
    settings: Settings, upload: Upload, stream: AsyncIterator[bytes], expected: bytes | None
) -> int:
    """Write the body after the current offset and return the new offset.

    A dropped connection keeps what arrived (that is what makes the upload resumable),
    unless a checksum was promised for the whole body; a refused body keeps nothing.
    """
    path = upload_path(settings, upload.id)
    state = _hashers.get(upload.id)
    hasher = state[1].copy() if state and state[0] == upload.offset else None
    if hasher is None and upload.offset == 0:
        hasher = hashlib.sha256()
    body_hash = hashlib.sha256() if expected is not None else None
    written = 0
    head = b""
    with path.open("r+b") as fh:
        fh.seek(upload.offset)
        fh.truncate()
        try:
            async for chunk in stream:
                if upload.offset + written + len(chunk) > upload.length:
                    raise BadRequest("The body goes past the declared Upload-Length.")
                if upload.offset == 0 and len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                    if len(head) >= min(HEAD_BYTES, upload.length):
                        sniff(head)  # refuse a file of the wrong type at its first bytes
                fh.write(chunk)
                if hasher is not None:
                    hasher.update(chunk)
                if body_hash is not None:
                    body_hash.update(chunk)
                written += len(chunk)
        except ClientDisconnect:
            if body_hash is not None:
                written = 0
            fh.truncate(upload.offset + written)
            hasher = hasher if body_hash is None else None
        except BaseException:
            fh.truncate(upload.offset)
            raise
        if body_hash is not None and written and body_hash.digest() != expected:
            fh.truncate(upload.offset)
            raise ChecksumMismatch("Upload-Checksum does not match the body; send it again.")
        fh.flush()
        os.fsync(fh.fileno())
    new_offset = upload.offset + written
    if hasher is not None:
        _hashers[upload.id] = (new_offset, hasher)
    return new_offset


def _save_offset(session: Session, upload: Upload, new_offset: int) -> None:
    session.execute(
        update(Upload).where(col(Upload.id) == upload.id).values(offset=new_offset)
    )
    session.commit()
    upload.offset = new_offset


def _finish(
    session: Session, settings: Settings, blobs: BlobStore, owner: User, upload: Upload
) -> Received:
    path = upload_path(settings, upload.id)
    with path.open("rb") as fh:
        sniffed = sniff(fh.read(HEAD_BYTES))
    state = _hashers.pop(upload.id, None)
    if state is not None and state[0] == upload.length:
        digest = state[1].hexdigest()
    else:
        digest = hash_file(path)
    # The upload folder sits inside the data dir, on the same file system: a rename.
    stored = blobs.adopt(path, digest, upload.length)
    received = create_asset(
        session,
        stored=stored,
        sniffed=sniffed,
        filename=upload.upload_metadata.get("filename"),
        owner=owner,
        title=upload.upload_metadata.get("title", ""),
        description=upload.upload_metadata.get("description", ""),
        source="tus",
    )
    row = session.get(Upload, upload.id)
    if row is not None:
        row.asset_id = received.asset.id
        session.commit()
    upload.asset_id = received.asset.id
    return received


def terminate(session: Session, *, settings: Settings, owner: User, upload_id: str) -> None:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.user_id != owner.id:
        raise NotFound("There is no upload with this id.")
    session.delete(upload)
    session.commit()
    upload_path(settings, upload_id).unlink(missing_ok=True)
    _hashers.pop(upload_id, None)


def expire_uploads(engine: Engine, settings: Settings) -> int:
    """Remove abandoned uploads past their expiry (and finished ones a day after)."""
    with Session(engine) as session:
        stale = list(session.exec(select(Upload).where(col(Upload.expires_at) < now())))
        for upload in stale:
            session.delete(upload)
        session.commit()
    for upload in stale:
        upload_path(settings, upload.id).unlink(missing_ok=True)
        _hashers.pop(upload.id, None)
    if stale:
        log.info("removed %d expired upload(s)", len(stale))
    return len(stale)


def _parse_checksum(header: str | None) -> bytes | None:
    if not header:
        return None
    algorithm, _, value = header.partition(" ")
    if algorithm.lower() != "sha256":
        raise BadRequest("Only sha256 checksums are supported.")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise BadRequest("Upload-Checksum value is not valid base64.") from None
