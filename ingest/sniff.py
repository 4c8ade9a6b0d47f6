"""Decide what a file is from its first bytes, never from its name."""

from __future__ import annotations

from dataclasses import dataclass

from dam.errors import N_, UnsupportedMedia
from dam.models import AssetKind
from ingest.video.signatures import HEAD_BYTES_NEEDED, VIDEO_ACCEPTED, sniff_video

# Enough for every signature: a transport stream shows three packet sync bytes within
# its first 392 bytes (see ingest.video.signatures).
HEAD_BYTES = 512
assert HEAD_BYTES >= HEAD_BYTES_NEEDED

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}

ACCEPTED = "JPEG, PNG, WebP, GIF, TIFF, HEIC/HEIF, AVIF"


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
    (b"8BPS", N_("a Photoshop document; export it as JPEG, PNG or TIFF")),
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
