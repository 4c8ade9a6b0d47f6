"""Streaming multipart upload: the file goes to the blob store as it arrives, never to memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from dam.blobs import BlobStore, BlobWriter, StoredBlob, human_size
from dam.errors import BadRequest, TooLarge, UnsupportedMedia
from dam.models import User
from dam.settings import Settings
from dam.assets import split_tags
from ingest.receive import Received, create_asset
from ingest.sniff import HEAD_BYTES, Sniffed, sniff

FIELD_LIMIT = 64 * 1024
TEXT_FIELDS = ("title", "description", "tags")
# Multipart framing around the file: boundaries, part headers and the small text fields.
ENVELOPE_ALLOWANCE = 4 * FIELD_LIMIT


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    buffer: bytearray = field(default_factory=bytearray)


class MultipartReceiver:
    """Feeds a multipart body to the parser; the `file` part streams into a BlobWriter."""

    def __init__(self, *, blobs: BlobStore, content_type: str, max_bytes: int) -> None:
        ctype, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if ctype != b"multipart/form-data" or not boundary:
            raise BadRequest("Send the file as multipart/form-data with a field called 'file'.")
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.writer: BlobWriter | None = None
        self.filename: str | None = None
        self.sniffed: Sniffed | None = None
        self._head = bytearray()
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._parser = MultipartParser(
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
        )

    async def receive(self, stream: AsyncIterator[bytes]) -> None:
        try:
            async for chunk in stream:
                self._parser.write(chunk)
            self._parser.finalize()
        except BaseException:
            self.abort()
            raise
        if self.writer is None:
            raise BadRequest("The request has no field called 'file'.")

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
            self.writer = None

    # parser callbacks ---------------------------------------------------------------

    def _part_begin(self) -> None:
        self._part = _Part()

    def _header_end(self) -> None:
        name = bytes(self._header_field).decode("latin-1").lower()
        self._part.headers[name] = bytes(self._header_value).decode("utf-8", "replace")
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._part.headers.get("content-disposition", ""))
        self._part.name = params.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = params.get(b"filename")
        self._part.filename = raw_filename.decode("utf-8", "replace") if raw_filename else None
        if self._part.name == "file":
            if self.writer is not None:
                raise BadRequest("Send one file per request.")
            self.writer = self.blobs.writer()
            self.filename = self._part.filename

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name != "file":
            if len(self._part.buffer) + (end - start) > FIELD_LIMIT:
                raise BadRequest(f"The field {self._part.name!r} is longer than 64 kB.")
            self._part.buffer.extend(data[start:end])
            return
        assert self.writer is not None
        if self.writer.size + (end - start) > self.max_bytes:
            raise TooLarge(_too_large(self.max_bytes))
        if self.sniffed is None:
            self._head.extend(data[start : min(end, start + HEAD_BYTES)])
            if len(self._head) >= HEAD_BYTES:
                self.sniffed = sniff(bytes(self._head))
        self.writer.write(memoryview(data)[start:end])

    def _part_end(self) -> None:
        if self._part.name == "file":
            if self.sniffed is None:
                self.sniffed = sniff(bytes(self._head))
        elif self._part.name in TEXT_FIELDS:
            self.fields[self._part.name] = self._part.buffer.decode("utf-8", "replace")


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
    if content_length is not None and content_length > settings.max_upload_bytes + ENVELOPE_ALLOWANCE:
        raise TooLarge(_too_large(settings.max_upload_bytes))
    receiver = MultipartReceiver(
        blobs=blobs, content_type=content_type, max_bytes=settings.max_upload_bytes
    )
    await receiver.receive(stream)
    writer, sniffed = receiver.writer, receiver.sniffed
    assert writer is not None
    if sniffed is None:
        writer.abort()
        raise UnsupportedMedia("The file is empty (0 bytes).")
    stored: StoredBlob = await run_in_threadpool(writer.commit)
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
    )


def _too_large(limit: int) -> str:
    return f"The file is larger than the upload limit of {human_size(limit)}."
