"""Decide what a file is from its first bytes, never from its name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dam.errors import N_, UnsupportedMedia
from dam.models import AssetKind
from ingest.video.signatures import HEAD_BYTES_NEEDED, VIDEO_ACCEPTED, sniff_video

# Enough for every signature: a transport stream shows three packet sync bytes within
# its first 392 bytes (see ingest.video.signatures).
HEAD_BYTES = 512
assert HEAD_BYTES >= HEAD_BYTES_NEEDED

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}

ACCEPTED = (
    "JPEG, PNG, WebP, GIF, TIFF, HEIC/HEIF, AVIF, camera RAW (DNG, CR2, CR3, NEF, ARW, RAF, "
    "ORF, RW2) and Photoshop (PSD, PSB)"
)


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
    raw = _camera_raw(head)
    if raw is not None:
        return raw
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return Sniffed(AssetKind.image, "image/tiff", "TIFF")
    if head[:4] == b"8BPS" and head[4:6] in (b"\x00\x01", b"\x00\x02"):
        # Photoshop: version 1 is a PSD, version 2 a large document (PSB).
        label = "PSD" if head[4:6] == b"\x00\x01" else "PSB"
        return Sniffed(AssetKind.image, "image/vnd.adobe.photoshop", label)
    if head[4:8] == b"ftyp":
        brands = _ftyp_brands(head)
        if brands & _AVIF_BRANDS:
            return Sniffed(AssetKind.image, "image/avif", "AVIF")
        if brands & _HEIF_BRANDS:
            return Sniffed(AssetKind.image, "image/heic", "HEIC")
    video = sniff_video(head)
    if video is not None:
        return Sniffed(AssetKind.video, video.mime, video.label)
    what = _guess(head)
    accepted = {"photos": ACCEPTED, "videos": VIDEO_ACCEPTED}
    if what:
        raise UnsupportedMedia(
            N_(
                "This file type is not accepted (it is %(what)s). Beeldbank accepts %(photos)s "
                "photos and %(videos)s videos."
            ),
            params={"what": what, **accepted},
        )
    raise UnsupportedMedia(
        N_(
            "This file type is not accepted. "
            "Beeldbank accepts %(photos)s photos and %(videos)s videos."
        ),
        params=accepted,
    )


def _camera_raw(head: bytes) -> Sniffed | None:
    """Camera RAW containers told apart by their first bytes. NEF, ARW and other plain-TIFF
    RAWs look like any TIFF here; the image pipeline recognises them by their tags."""
    if head[:4] == b"II*\x00" and head[8:10] == b"CR":
        return Sniffed(AssetKind.image, "image/x-canon-cr2", "CR2")
    if head[4:8] == b"ftyp" and head[8:12] == b"crx ":
        return Sniffed(AssetKind.image, "image/x-canon-cr3", "CR3")
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return Sniffed(AssetKind.image, "image/x-fuji-raf", "RAF")
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return Sniffed(AssetKind.image, "image/x-olympus-orf", "ORF")
    if head[:4] == b"IIU\x00":
        return Sniffed(AssetKind.image, "image/x-panasonic-rw2", "RW2")
    if head[:4] in (b"II*\x00", b"MM\x00*") and _DNG_VERSION in _ifd0_tags(head):
        return Sniffed(AssetKind.image, "image/x-adobe-dng", "DNG")
    return None


_DNG_VERSION = 50706


def _ifd0_tags(head: bytes) -> set[int]:
    """The tag numbers of a TIFF's first IFD, as far as it lies within `head`."""
    order: Literal["little", "big"] = "little" if head[:2] == b"II" else "big"
    offset = int.from_bytes(head[4:8], order)
    if offset < 8 or offset + 2 > len(head):
        return set()
    count = int.from_bytes(head[offset : offset + 2], order)
    tags = set()
    for i in range(min(count, 512)):
        at = offset + 2 + 12 * i
        if at + 2 > len(head):
            break
        tags.add(int.from_bytes(head[at : at + 2], order))
    return tags


def _ftyp_brands(head: bytes) -> set[bytes]:
    size = int.from_bytes(head[:4], "big")
    end = min(len(head), max(size, 16))
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


# Formats people actually try to upload, so the refusal can say what the file is and what to
# do instead. Matched on the first bytes only, like the accepted types.
_KNOWN_OTHERS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", N_("a PDF document")),
    (b"PK\x03\x04", N_("a ZIP archive or an Office document")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", N_("an old Office or FlashPix document")),
    (b"Rar!", N_("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", N_("a 7-Zip archive")),
    (b"\x1f\x8b", N_("a gzip archive")),
    (b"BM", N_("a BMP bitmap; save it as PNG or JPEG first")),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", N_("a JPEG 2000 image; export it as JPEG or TIFF")),
    (b"\xffO\xffQ", N_("a JPEG 2000 codestream; export it as JPEG or TIFF")),
    (b"\xff\x0a", N_("a JPEG XL image; export it as JPEG or PNG")),
    (b"\x00\x00\x00\x0cJXL ", N_("a JPEG XL image; export it as JPEG or PNG")),
    (b"\x00\x00\x01\x00", N_("an icon (ICO)")),
    (b"\x00\x00\x02\x00", N_("a cursor (CUR)")),
    (b"icns", N_("a macOS icon")),
    (b"%!PS", N_("a PostScript or EPS drawing; export it as PNG or PDF")),
    (b"\xc5\xd0\xd3\xc6", N_("an EPS drawing; export it as PNG")),
    (b"DDS ", N_("a DirectDraw texture")),
    (b"qoif", N_("a QOI image; save it as PNG")),
    (b"\x01\xda", N_("an SGI image; save it as PNG")),
    (b"SIMPLE  =", N_("a FITS astronomy file")),
    (b"/* XPM */", N_("an XPM image; save it as PNG")),
    (b"GIMP ", N_("a GIMP resource, not a photo")),
    (b"gimp xcf", N_("a GIMP document; export it as PNG or JPEG")),
    (b"\x59\xa6\x6a\x95", N_("a Sun raster image; save it as PNG")),
    (b"\xd7\xcd\xc6\x9a", N_("a Windows metafile drawing; export it as PNG")),
    (b"#EXTM3U", N_("a playlist")),
    (b"<svg", N_("an SVG drawing; export it as PNG")),
    (b"<?xml", N_("an XML or SVG document; export drawings as PNG")),
)

_QUICKTIME_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip"}
_NETPBM = {b"P1", b"P2", b"P3", b"P4", b"P5", b"P6", b"P7", b"Pf", b"PF"}


def _guess(head: bytes) -> str:
    """What the file is, for a format we recognise (a message id), else nothing."""
    what = None
    # Box-structured media first: a box size such as 0x00000100 would look like an icon.
    if head[4:8] == b"ftyp" or head[4:8] in _QUICKTIME_BOXES:
        what = N_("an ISO media file, but neither a photo nor a video format Beeldbank reads")
    if what is None:
        what = next((text for magic, text in _KNOWN_OTHERS if head.startswith(magic)), None)
    if what is None and head[:2] in _NETPBM and head[2:3] in (b"\n", b"\r", b" ", b"\t"):
        what = N_("a Netpbm image (PPM, PGM or PBM); save it as PNG")
    if what is None and head[:4] == b"RIFF":
        what = N_("a RIFF file, but neither a WebP photo nor an AVI video")
    if what is None and head.lstrip()[:5].lower() in (b"<!doc", b"<html"):
        what = N_("a web page")
    return what or ""
