"""Resumable uploads, tus 1.0.0 (core, creation, creation-with-upload, termination,
checksum with sha256, expiration). A finished upload becomes an asset."""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from dam import collections, disk
from dam.assets import split_tags
from dam.blobs import BlobStore, hash_file
from dam.clock import now
from dam.errors import (
    N_,
    BadRequest,
    Conflict,
    DomainError,
    Gone,
    N_plural,
    NotFound,
    TooLarge,
    UnsupportedMedia,
)
from dam.models import Upload, User
from dam.runtime import Runtime
from dam.settings import Settings
from ingest.filenames import client_filename
from ingest.receive import Received, create_asset, over_upload_limit, upload_licence
from ingest.sniff import HEAD_BYTES, sniff
from ingest.spool import FileSink, Spool

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
CHECKSUM_ALGORITHMS = "sha256"
PATCH_CONTENT_TYPE = "application/offset+octet-stream"
TERMINATE_WAIT_S = 2.0


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
            value = (
                base64.b64decode(parts[1], validate=True).decode("utf-8") if len(parts) == 2 else ""
            )
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(
                N_("Upload-Metadata value for %(key)r is not valid base64."),
                params={"key": parts[0]},
            ) from None
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
        raise over_upload_limit(settings.max_upload_bytes)
    if length == 0:
        raise UnsupportedMedia("The file is empty (0 bytes).")
    disk.ensure_free(settings.data_dir, min_free=settings.min_free_bytes, incoming=length)
    fields = parse_metadata(metadata)
    # A wrong licence status or collection is refused before any byte is sent.
    upload_licence(fields)
    if fields.get("collection_id"):
        collections.get_collection(session, fields["collection_id"])
    if "filename" in fields:
        fields["filename"] = client_filename(fields["filename"]) or ""
    upload = Upload(
        user_id=owner.id,
        length=length,
        upload_metadata=fields,
        expires_at=now() + timedelta(hours=settings.upload_expiry_hours),
    )
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    upload_path(settings, upload.id).touch(exist_ok=False)
    session.add(upload)
    session.commit()
    return upload


def get_upload(session: Session, *, upload_id: str, owner: User) -> Upload:
    """The owner's upload; NotFound for anyone else's, Gone once it expired."""
    # populate_existing: another request may have moved the offset since this session looked.
    upload = session.get(Upload, upload_id, populate_existing=True)
    if upload is None or upload.user_id != owner.id:
        raise NotFound("There is no upload with this id.")
    if upload.expires_at < now() and upload.asset_id is None:
        raise Gone("This upload expired; start it again.")
    return upload


# Hash state of uploads in progress, so completing a 2 GB upload need not re-read it.
# A restart or another worker process loses the state; the file is then hashed at the end.
_hashers: dict[str, tuple[int, hashlib._Hash]] = {}


def _open_locked(path: Path, wait_s: float = 0.0) -> BinaryIO | None:
    """The upload's file, open and exclusively locked; None when it is gone (finished).

    An advisory file lock, not a lock in memory: it also keeps requests that land in
    different server processes from writing the same upload at once.
    """
    try:
        fh = path.open("r+b")
    except FileNotFoundError:
        return None
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.close()
                raise Conflict(
                    "Another request is still sending this upload; ask HEAD for its offset."
                ) from None
            time.sleep(0.05)


async def append(
    session: Session,
    *,
    settings: Settings,
    blobs: BlobStore,
    owner: User,
    upload_id: str,
    offset: int | None,
    content_type: str | None,
    content_length: int | None,
    checksum: str | None,
    stream: AsyncIterator[bytes],
) -> PatchResult:
    """Append the request body at `offset`; finish the upload when it is complete."""
    if content_type != PATCH_CONTENT_TYPE:
        raise UnsupportedMedia(
            N_("PATCH bodies must be sent as %(type)s."), params={"type": PATCH_CONTENT_TYPE}
        )
    expected = _parse_checksum(checksum)
    upload = await run_in_threadpool(_current, session, upload_id=upload_id, owner=owner)
    path = upload_path(settings, upload.id)
    fh = await run_in_threadpool(_open_locked, path)
    if fh is None:
        _check_patch(upload, offset, content_length)  # a finished upload: 409
        raise Gone("This upload's data is gone; start it again.")
    try:
        # Read the row again under the lock: a request that just ended may have moved it.
        upload = await run_in_threadpool(_current, session, upload_id=upload_id, owner=owner)
        _check_patch(upload, offset, content_length)
        incoming = content_length if content_length is not None else upload.length - upload.offset
        disk.ensure_free(settings.uploads_dir, min_free=settings.min_free_bytes, incoming=incoming)
        with disk.full_disk_refused():  # _write_body dropped this body's partial bytes
            new_offset = await _write_body(fh, upload, stream, expected)
        await run_in_threadpool(_save_offset, session, settings, upload, new_offset)
        received = None
        if new_offset == upload.length:
            received = await run_in_threadpool(_finish, session, settings, blobs, owner, upload)
        return PatchResult(upload=upload, received=received)
    finally:
        fh.close()


def _current(session: Session, *, upload_id: str, owner: User) -> Upload:
    """The upload as it is now, with the transaction ended: the body may take minutes to
    arrive, and an open transaction would hold SQLite's write lock (BEGIN IMMEDIATE) or
    sit idle in a PostgreSQL transaction all that time."""
    upload = get_upload(session, upload_id=upload_id, owner=owner)
    session.commit()
    return upload


def _check_patch(upload: Upload, offset: int | None, content_length: int | None) -> None:
    if upload.asset_id is not None:
        raise Conflict("This upload is complete already.", offset=upload.offset)
    if offset is None:
        raise BadRequest("Upload-Offset is required: the offset this body starts at.")
    if offset != upload.offset:
        raise Conflict(
            N_("Upload-Offset %(offset)s does not match the server's offset %(expected)s."),
            params={"offset": offset, "expected": upload.offset},
            offset=upload.offset,
        )
    if content_length is not None and offset + content_length > upload.length:
        raise _past_length(upload)


def _past_length(upload: Upload) -> TooLarge:
    return TooLarge(
        N_plural(
            "The body goes past the declared Upload-Length of %(num)s byte.",
            "The body goes past the declared Upload-Length of %(num)s bytes.",
        ),
        params={"num": upload.length},
    )


async def _write_body(
    fh: BinaryIO, upload: Upload, stream: AsyncIterator[bytes], expected: bytes | None
) -> int:
    """Write the body after the current offset and return the new offset.

    A dropped connection keeps what arrived (that is what makes the upload resumable),
    unless a checksum was promised for the whole body; a refused body keeps nothing.
    """
    state = _hashers.get(upload.id)
    hasher = state[1].copy() if state and state[0] == upload.offset else None
    if hasher is None and upload.offset == 0:
        hasher = hashlib.sha256()
    body_hash = hashlib.sha256() if expected is not None else None
    head = await run_in_threadpool(_prepare, fh, upload.offset)
    spool = Spool(FileSink(fh, hasher, body_hash))
    kept = 0
    try:
        complete = await _receive(stream, spool, upload, head)
        if body_hash is not None and not complete:
            pass  # the promised checksum cannot vouch for part of a body: keep nothing
        elif body_hash is not None and body_hash.digest() != expected:
            raise ChecksumMismatch("Upload-Checksum does not match the body; send it again.")
        else:
            kept = spool.size
    finally:
        # A failed write (a full disk) is already on its way up; settling must not hide
        # it, nor keep the partial bytes from being cut off below.
        with contextlib.suppress(Exception):
            await spool.settle()
        await run_in_threadpool(_sync_length, fh, upload.offset + kept)
    new_offset = upload.offset + kept
    if hasher is not None and kept == spool.size:
        _hashers[upload.id] = (new_offset, hasher)
    return new_offset


def _prepare(fh: BinaryIO, offset: int) -> bytearray | None:
    """Drop bytes past `offset` (a write cut off by a crash); return the head to sniff."""
    head = bytearray(fh.read(offset)) if offset < HEAD_BYTES else None
    fh.seek(offset)
    fh.truncate()
    return head


async def _receive(
    stream: AsyncIterator[bytes], spool: Spool, upload: Upload, head: bytearray | None
) -> bool:
    """Spool the body to the file; False when the client went away before its end."""
    try:
        async for chunk in stream:
            if upload.offset + spool.size + len(chunk) > upload.length:
                raise _past_length(upload)
            if head is not None:
                head += chunk[: HEAD_BYTES - len(head)]
                if len(head) >= min(HEAD_BYTES, upload.length):
                    sniff(bytes(head))  # refuse a file of the wrong type at its first bytes
                    head = None
            await spool.write(chunk)
    except ClientDisconnect:
        await spool.flush()
        return False
    await spool.flush()
    return True


def _sync_length(fh: BinaryIO, length: int) -> None:
    # The offset is saved only after this, so a crash never leaves it past the bytes on disk.
    try:
        fh.flush()
    except OSError:
        # The disk is full: what is still buffered cannot be written, and what was written
        # past `length` is cut off (the space given back), bypassing the buffer.
        os.ftruncate(fh.fileno(), length)
        raise
    fh.truncate(length)
    os.fsync(fh.fileno())


def _save_offset(session: Session, settings: Settings, upload: Upload, new_offset: int) -> None:
    # An upload that is still receiving bytes is not abandoned: its expiry moves on.
    upload.offset = new_offset
    upload.expires_at = now() + timedelta(hours=settings.upload_expiry_hours)
    session.add(upload)
    session.commit()


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
    licence_status, licence = upload_licence(upload.upload_metadata)
    received = create_asset(
        session,
        stored=stored,
        sniffed=sniffed,
        filename=upload.upload_metadata.get("filename"),
        owner=owner,
        title=upload.upload_metadata.get("title", ""),
        description=upload.upload_metadata.get("description", ""),
        tags=split_tags(upload.upload_metadata.get("tags")),
        source="tus",
        licence_status=licence_status,
        licence=licence,
    )
    upload.asset_id = received.asset.id
    session.add(upload)
    session.commit()
    collection_id = upload.upload_metadata.get("collection_id")
    if collection_id:
        with contextlib.suppress(NotFound):  # removed while the file was on its way
            collections.add_assets(
                session, collection_id=collection_id, asset_ids=[received.asset.id], actor=owner
            )
    return received


def terminate(session: Session, *, settings: Settings, owner: User, upload_id: str) -> None:
    """Cancel an upload: forget it and remove its bytes."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.user_id != owner.id:
        raise NotFound("There is no upload with this id.")
    path = upload_path(settings, upload_id)
    # A client that cancels aborts its PATCH and then deletes; give that PATCH a moment
    # to notice the closed connection and let go of the file. It needs the database to
    # finish, so end this transaction first (on SQLite it holds the write lock).
    session.commit()
    fh = _open_locked(path, wait_s=TERMINATE_WAIT_S)
    try:
        session.delete(upload)
        session.commit()
        path.unlink(missing_ok=True)
    finally:
        if fh is not None:
            fh.close()
    _hashers.pop(upload_id, None)


def expire_uploads(rt: Runtime) -> int:
    """Remove abandoned uploads past their expiry (and finished ones a day after); the
    periodic task."""
    settings = rt.settings
    removed = 0
    with rt.session() as session:
        stale = list(session.exec(select(Upload).where(col(Upload.expires_at) < now())))
        for upload in stale:
            path = upload_path(settings, upload.id)
            try:
                fh = _open_locked(path)
            except Conflict:
                continue  # a PATCH is writing it right now; its expiry moves when it ends
            try:
                session.delete(upload)
                session.commit()
                path.unlink(missing_ok=True)
            finally:
                if fh is not None:
                    fh.close()
            _hashers.pop(upload.id, None)
            removed += 1
    if removed:
        log.info("removed %d expired upload(s)", removed)
    return removed


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
