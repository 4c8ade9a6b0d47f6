"""An erased person's name out of an original file's embedded metadata (IPTC captions
and keywords, XMP descriptions, PersonInImage and face-region names, EXIF comments and
Windows XP tags), without touching its pixels or frames.

Every occurrence is overwritten by a placeholder of the same byte length, so no length
field, offset table or chunk size of the file changes: an EXIF IFD, an IPTC record, an
XMP packet or an MP4 atom stays valid. JPEG files are changed only in their APPn and
COM segments (never in the entropy-coded image data), PNG files only in their text and
EXIF chunks (with the CRCs recomputed; compressed text is decompressed and compressed
again); other files wherever the name occurs (a 10-byte name occurring by chance in
compressed media data is a 1 in 2^80 event).

Pure functions over bytes; gdpr/requests/erasure.py stores the result as a new original.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Iterator

PLACEHOLDER = "[…]"
JPEG_SOI = b"\xff\xd8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_TEXT_CHUNKS = {b"tEXt", b"iTXt", b"zTXt", b"eXIf"}
ENCODINGS = ("utf-8", "latin-1", "utf-16-le", "utf-16-be")


def variants(name: str) -> list[tuple[bytes, bytes]]:
    """(the name as some tool may have written it, its same-length placeholder): the
    usual spellings of its case, in UTF-8, Latin-1 and UTF-16 both ways."""
    found: dict[bytes, bytes] = {}
    name = name.strip()
    if not name:
        return []
    for spelling in dict.fromkeys((name, name.upper(), name.lower(), name.title())):
        for encoding in ENCODINGS:
            try:
                raw = spelling.encode(encoding)
            except UnicodeEncodeError:
                continue
            found.setdefault(raw, _filler(len(raw), encoding))
    return sorted(found.items(), key=lambda item: -len(item[0]))


def _filler(size: int, encoding: str) -> bytes:
    for text in (PLACEHOLDER, "[...]", "-"):
        try:
            raw = text.encode(encoding)
        except UnicodeEncodeError:  # Latin-1 has no ellipsis
            continue
        if len(raw) <= size:
            space = " ".encode(encoding)
            return (
                raw
                + space * ((size - len(raw)) // len(space))
                + b"\x00" * ((size - len(raw)) % len(space))
            )
    return b"\x00" * size


def _pattern(pairs: Iterable[tuple[bytes, bytes]]) -> re.Pattern[bytes]:
    # Byte patterns fold ASCII case only; the other spellings are listed in `variants`.
    return re.compile(b"|".join(re.escape(raw) for raw, _ in pairs), re.IGNORECASE)


def contains(data: bytes, name: str) -> bool:
    """Whether any spelling of `name` occurs anywhere in `data`."""
    pairs = variants(name)
    return bool(pairs) and _pattern(pairs).search(data) is not None


def replace_all(data: bytes, name: str) -> tuple[bytes, int]:
    """`data` with every spelling of `name` overwritten in place, and how many."""
    pairs = variants(name)
    if not pairs:
        return data, 0
    by_length = {len(raw): filler for raw, filler in pairs}
    return _pattern(pairs).subn(lambda m: by_length[len(m.group(0))], data)


def scrub(data: bytes, name: str) -> tuple[bytes, int]:
    """The file without `name` in its metadata, and how many places were overwritten."""
    if data.startswith(JPEG_SOI):
        return _scrub_jpeg(data, name)
    if data.startswith(PNG_SIGNATURE):
        return _scrub_png(data, name)
    return replace_all(data, name)


def _scrub_jpeg(data: bytes, name: str) -> tuple[bytes, int]:
    out = bytearray(data)
    count = 0
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break  # not a marker: damaged; leave the rest as it is
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            pos += 2
            continue
        if marker == 0xDA:  # start of scan: image data follows, nothing to scrub
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        start, end = pos + 4, pos + 2 + length
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            new, found = replace_all(data[start:end], name)
            out[start:end] = new
            count += found
        pos = end
    return bytes(out), count


def _scrub_png(data: bytes, name: str) -> tuple[bytes, int]:
    out = bytearray(PNG_SIGNATURE)
    count = 0
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind in PNG_TEXT_CHUNKS:
            body, found = _scrub_png_text(kind, body, name)
            count += found
        out += struct.pack(">I", len(body)) + kind + body
        out += struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        pos += 12 + length
    out += data[pos:]
    return bytes(out), count


def _scrub_png_text(kind: bytes, body: bytes, name: str) -> tuple[bytes, int]:
    if kind == b"zTXt":
        keyword, _, rest = body.partition(b"\x00")
        text, found = replace_all(zlib.decompress(rest[1:]), name)
        return keyword + b"\x00" + rest[:1] + zlib.compress(text), found
    if kind == b"iTXt":
        keyword, _, rest = body.partition(b"\x00")
        compressed, method = rest[0], rest[1:2]
        language, _, rest = rest[2:].partition(b"\x00")
        translated, _, text = rest.partition(b"\x00")
        header = keyword + b"\x00" + bytes([compressed]) + method + language + b"\x00"
        translated, in_title = replace_all(translated, name)
        if compressed:
            plain, found = replace_all(zlib.decompress(text), name)
            text = zlib.compress(plain)
        else:
            text, found = replace_all(text, name)
        return header + translated + b"\x00" + text, found + in_title
    return replace_all(body, name)


def scrub_chunks(chunks: Iterable[bytes], name: str) -> Iterator[tuple[bytes, int]]:
    """`replace_all` over a stream (a video too large to hold): the chunks out, each with
    how many places it overwrote. A spelling cut in two by a chunk boundary is found: the
    last bytes of each chunk wait for the next one."""
    pairs = variants(name)
    if not pairs:
        yield from ((chunk, 0) for chunk in chunks)
        return
    pattern = _pattern(pairs)
    by_length = {len(raw): filler for raw, filler in pairs}
    keep = max(len(raw) for raw, _ in pairs) - 1
    carry = b""
    for chunk in chunks:
        buffer = carry + chunk
        new, count = pattern.subn(lambda m: by_length[len(m.group(0))], buffer)
        cut = max(0, len(new) - keep)
        carry = new[cut:]
        yield new[:cut], count
    yield carry, 0
