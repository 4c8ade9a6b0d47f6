"""Decide what a file is from its first bytes, never from its name."""

from __future__ import annotations

from dataclasses import dataclass

from dam.errors import UnsupportedMedia
from dam.models import AssetKind

HEAD_BYTES = 64

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}

ACCEPTED = "JPEG, PNG, WebP, GIF, TIFF, HEIC/HEIF and AVIF"


@dataclass(frozen=True)
class Sniffed:
    kind: AssetKind
    mime: str
    label: str  # what a person calls the format


def sniff(head: bytes) -> Sniffed:
    """The kind and MIME type of a file from its first bytes; UnsupportedMedia otherwise."""
    if not head:
        raise UnsupportedMedia("The file is empty (0 bytes).")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed(AssetKind.image, "image/jpeg", "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(AssetKind.image, "image/png", "PNG")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed(AssetKind.image, "image/gif", "GIF")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed(AssetKind.image, "image/webp", "WebP")
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return Sniffed(AssetKind.image, "image/tiff", "TIFF")
    if head[4:8] == b"ftyp":
        brands = _ftyp_brands(head)
        if brands & _AVIF_BRANDS:
            return Sniffed(AssetKind.image, "image/avif", "AVIF")
        if brands & _HEIF_BRANDS:
            return Sniffed(AssetKind.image, "image/heic", "HEIC")
    raise UnsupportedMedia(
        f"This file type is not accepted{_guess(head)}. Beeldbank accepts {ACCEPTED} photos."
    )


def _ftyp_brands(head: bytes) -> set[bytes]:
    size = int.from_bytes(head[:4], "big")
    end = min(len(head), max(size, 16))
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


_KNOWN_OTHERS = (
    (b"%PDF", " (it is a PDF document)"),
    (b"PK\x03\x04", " (it is a ZIP archive or an Office document)"),
    (b"BM", " (it is a BMP bitmap; save it as PNG or JPEG first)"),
    (b"8BPS", " (it is a Photoshop document; export it as JPEG, PNG or TIFF)"),
    (b"#EXTM3U", " (it is a playlist)"),
)


def _guess(head: bytes) -> str:
    for magic, text in _KNOWN_OTHERS:
        if head.startswith(magic):
            return text
    if head[4:8] == b"ftyp":
        return " (it is a video or another ISO media file; video support is coming)"
    return ""
