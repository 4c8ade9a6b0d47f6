"""Streaming multipart upload: the file goes to the blob store as it arrives, never to memory.

The parser runs on the event loop; the file's bytes are hashed and written by a worker
thread through a Spool, so a large upload neither blocks other requests nor piles up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from dam import disk
from dam.assets import split_tags
from dam.blobs import BlobStore, StoredBlob
from dam.errors import N_, BadRequest, InvalidInput, UnsupportedMedia
from dam.models import User
from dam.owner import temp_prefix
from dam.settings import Settings
from dam.sizes import Size
from ingest.filenames import MAX_FILENAME_BYTES, client_filename, disposition_params
from ingest.receive import (
    LICENCE_UPLOAD_FIELDS,
    Received,
    create_asset,
    over_upload_limit,
    upload_licence,
)
from ingest.sniff import HEAD_BYTES, Sniffed, sniff
from ingest.spool import Chunk, FileSink, Spool

FIELD_LIMIT = 64 * 1024
TEXT_FIELDS = ("title", "description", "tags", "licence_status", *LICENCE_UPLOAD_FIELDS)
# Multipart framing around the file: boundaries, part headers and the small text fields.
ENVELOPE_ALLOWANCE = 4 * FIELD_LIMIT
# One part header line. Room for a file name far over its limit, so that the client hears
# about the name (400 with the limit) rather than about the header.
HEADER_LIMIT = 16 * 1024


class _Parser(MultipartParser):
    """A body that breaks the multipart framing is the client's mistake: 400, not 500."""

    def write(self, data: bytes) -> int:
        try:
            return super().write(data)
        except MultipartParseError as exc:
            raise _malformed(exc) from None

    def finalize(self) -> None:
        try:
            super().finalize()
        except MultipartParseError as exc:
            raise _malformed(exc) from None


def _malformed(exc: MultipartParseError) -> BadRequest:
    if "header size" in str(exc):
        return BadRequest(
            N_(
                "A part header is longer than %(limit)s; file names may be at most %(max)s "
                "bytes (UTF-8)."
            ),
            params={"limit": Size(HEADER_LIMIT), "max": MAX_FILENAME_BYTES},
        )
    return BadRequest("The multipart/form-data body is malformed.")


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    buffer: bytearray = field(default_factory=bytearray)


class IncomingFile:
    """The file part on its way into the blob store: a temp file beside the originals."""

    def __init__(self, blobs: BlobStore) -> None:
        fd, name = tempfile.mkstemp(dir=blobs.tmp_dir, prefix=temp_prefix("in-"))
        self.path = Path(name)
        self._blobs = blobs
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.spool = Spool(FileSink(self._file, self._hash))

    def commit(self) -> StoredBlob:
        """Fsync, then move into place by hash (or drop it when the content exists)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._blobs.adopt(self.path, self._hash.hexdigest(), self.spool.size)

    async def abort(self) -> None:
        # The thread must be done with the file first; its error (a full disk) is the
        # caller's to report, not a reason to keep the partial file.
        with contextlib.suppress(Exception):
            await self.spool.settle()
        with contextlib.suppress(OSError):
            self._file.close()
        self.path.unlink(missing_ok=True)


class MultipartReceiver:
    """Feeds a multipart body to the parser; the `file` part streams into an IncomingFile.

    The parser's callbacks cannot await, so they queue the file's bytes in `_file_chunks`
    and `receive` passes them to the Spool after every network chunk.
    """

    def __init__(self, *, blobs: BlobStore, content_type: str, max_bytes: int) -> None:
        ctype, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if ctype != b"multipart/form-data" or not boundary:
            raise BadRequest("Send the file as multipart/form-data with a field called 'file'.")
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.incoming: IncomingFile | None = None
        self.file_size = 0
        self._file_chunks: list[Chunk] = []
        self.filename: str | None = None
        self.sniffed: Sniffed | None = None
        self._head = bytearray()
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._parser = _Parser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
                "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
            max_header_size=HEADER_LIMIT,
        )

    async def receive(self, stream: AsyncIterator[bytes]) -> None:
        try:
            async for chunk in stream:
                self._parser.write(chunk)
                await self._spool_file_chunks()
            self._parser.finalize()
            await self._spool_file_chunks()
            if self.incoming is not None:
                await self.incoming.spool.flush()
        except BaseException:
            await self.abort()
            raise
        if self.incoming is None:
            raise BadRequest("The request has no field called 'file'.")

    async def abort(self) -> None:
        if self.incoming is not None:
            await self.incoming.abort()
            self.incoming = None

    async def _spool_file_chunks(self) -> None:
        if self.incoming is not None:
            for chunk in self._file_chunks:
                await self.incoming.spool.write(chunk)
        self._file_chunks.clear()

    # parser callbacks ---------------------------------------------------------------

    def _part_begin(self) -> None:
        self._part = _Part()

    def _header_end(self) -> None:
        name = bytes(self._header_field).decode("latin-1").lower()
        self._part.headers[name] = bytes(self._header_value).decode("utf-8", "replace")
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        params = disposition_params(self._part.headers.get("content-disposition", ""))
        self._part.name = params.get("name", "")
        self._part.filename = params.get("filename")
        if self._part.name == "file":
            if self.incoming is not None:
                raise BadRequest("Send one file per request.")
            self.filename = client_filename(self._part.filename)
            self.incoming = IncomingFile(self.blobs)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name != "file":
            if len(self._part.buffer) + (end - start) > FIELD_LIMIT:
                raise BadRequest(
                    N_("The field %(field)r is longer than %(limit)s."),
                    params={"field": self._part.name, "limit": Size(FIELD_LIMIT)},
                )
            self._part.buffer.extend(data[start:end])
            return
        self.file_size += end - start
        if self.file_size > self.max_bytes:
            raise over_upload_limit(self.max_bytes)
        if self.sniffed is None:
            self._head.extend(data[start : min(end, start + HEAD_BYTES)])
            if len(self._head) >= HEAD_BYTES:
                self.sniffed = sniff(bytes(self._head))
        # A view, not a copy: the parser hands out slices of immutable network chunks.
        piece = memoryview(data)[start:end] if isinstance(data, bytes) else bytes(data[start:end])
        self._file_chunks.append(piece)

    def _part_end(self) -> None:
        if self._part.name == "file":
            if self.sniffed is None:
                self.sniffed = sniff(bytes(self._head))
        elif self._part.name in TEXT_FIELDS:
            text = self._part.buffer.decode("utf-8", "replace")
            if "\x00" in text:  # PostgreSQL text cannot hold it (see web/input_guard.py)
                raise InvalidInput(
                    N_("The field %(field)r contains a NUL character."),
                    params={"field": self._part.name},
                )
            self.fields[self._part.name] = text


async def receive_upload(
    *,
    session: Session,
    blobs: BlobStore,
    settings: Settings,
    owner: User,
    content_type: str,
    content_length: int | None,
    stream: AsyncIterator[bytes],
) -> Received:
    """Stream a multipart upload into the store and create (or find) its asset."""
    if (
        content_length is not None
        and content_length > settings.max_upload_bytes + ENVELOPE_ALLOWANCE
    ):
        raise over_upload_limit(settings.max_upload_bytes)
    disk.ensure_free(blobs.tmp_dir, min_free=settings.min_free_bytes, incoming=content_length or 0)
    receiver = MultipartReceiver(
        blobs=blobs, content_type=content_type, max_bytes=settings.max_upload_bytes
    )
    # End the transaction that reading the user opened: the body may take minutes, and
    # meanwhile it would hold SQLite's write lock (BEGIN IMMEDIATE) for every request.
    await run_in_threadpool(session.commit)
    with disk.full_disk_refused():  # receive() removed the partial file
        await receiver.receive(stream)
    incoming, sniffed = receiver.incoming, receiver.sniffed
    assert incoming is not None
    try:
        licence_status, licence = upload_licence(receiver.fields)
    except BaseException:
        await receiver.abort()
        raise
    if sniffed is None:
        await receiver.abort()
        raise UnsupportedMedia("The file is empty (0 bytes).")
    try:
        with disk.full_disk_refused():
            stored: StoredBlob = await run_in_threadpool(incoming.commit)
    except BaseException:
        await receiver.abort()
        raise
    return await run_in_threadpool(
        create_asset,
        session,
        stored=stored,
        sniffed=sniffed,
        filename=receiver.filename,
        owner=owner,
        title=receiver.fields.get("title", ""),
        description=receiver.fields.get("description", ""),
        tags=split_tags(receiver.fields.get("tags")),
        licence_status=licence_status,
        licence=licence,
    )
