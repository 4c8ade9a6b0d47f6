"""PDF factories: one-page PDFs written byte by byte (objects, a cross-reference table and
a trailer, ISO 32000-1 section 7.5), so a test can make a page no PDF writer would."""

from __future__ import annotations

import zlib


def one_page(
    content: bytes,
    *,
    width: float = 595,
    height: float = 842,
    image: tuple[int, int, bytes] | None = None,
    compress: bool = True,
) -> bytes:
    """A PDF with one page of `width` x `height` points drawing `content`; `image` (width,
    height and its Flate-compressed RGB samples) becomes the XObject /Im0."""
    stream = zlib.compress(content) if compress else content
    page_resources = b"<< /XObject << /Im0 5 0 R >> >>" if image else b"<< >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources %s /Contents 4 0 R >>"
        % (_number(width), _number(height), page_resources),
        _stream(stream, b"/Filter /FlateDecode" if compress else b""),
    ]
    if image:
        side_w, side_h, samples = image
        objects.append(
            _stream(
                samples,
                b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                b"/BitsPerComponent 8 /Filter /FlateDecode" % (side_w, side_h),
            )
        )
    return _document(objects)


def signature_block() -> bytes:
    """The content of a signed form's page: a black block where the signature goes."""
    return b"0 g 300 62 250 80 re f\n"


def many_paths(count: int) -> bytes:
    """A page content of `count` stroked diagonals: cheap to store, slow to draw."""
    return b"0.5 w\n" + b"0 0 m 595 842 l 595 0 l 0 842 l S\n" * count


def image_bomb(side: int) -> tuple[int, int, bytes]:
    """A `side` x `side` RGB image of zeros, Flate-compressed (about 1,000:1)."""
    squeeze = zlib.compressobj(1)
    row_block = bytes(side * 3 * 64)
    parts: list[bytes] = []
    for _ in range(side // 64):
        parts.append(squeeze.compress(row_block))
    parts.append(squeeze.flush())
    return side, side, b"".join(parts)


def _number(value: float) -> bytes:
    return (b"%d" % value) if float(value).is_integer() else (b"%.2f" % value)


def _stream(data: bytes, entries: bytes) -> bytes:
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), entries, data)


def _document(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
