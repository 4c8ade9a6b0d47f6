"""Content sniffing: the first bytes decide, never the file name."""

from __future__ import annotations

import pytest

from dam.errors import UnsupportedMedia
from dam.models import AssetKind
from ingest.sniff import HEAD_BYTES, sniff
from tests import media
from tests.corpus import message_problem

# A TIFF whose first IFD (two entries) holds DNGVersion: a DNG.
DNG_HEAD = (
    b"II*\x00\x08\x00\x00\x00\x02\x00"
    + b"\xfe\x00\x04\x00\x01\x00\x00\x00\x00\x00\x00\x00"
    + b"\x12\xc6\x01\x00\x04\x00\x00\x00\x01\x04\x00\x00"
    + b"\x00\x00\x00\x00"
)


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO media `ftyp` box followed by the start of the next box."""
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00\x00\x00\x08meta"


@pytest.mark.parametrize(
    ("head", "mime", "label"),
    [
        (media.jpeg(16, 16), "image/jpeg", "JPEG"),
        (media.png(16, 16), "image/png", "PNG"),
        (b"GIF87a" + b"\x00" * 20, "image/gif", "GIF"),
        (b"GIF89a" + b"\x00" * 20, "image/gif", "GIF"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp", "WebP"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff", "TIFF"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff", "TIFF"),
        (b"II+\x00\x08\x00\x00\x00", "image/tiff", "TIFF"),  # BigTIFF
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic", "HEIC"),
        (ftyp(b"mif1", b"heic"), "image/heic", "HEIC"),
        (ftyp(b"avif", b"mif1", b"miaf"), "image/avif", "AVIF"),
        (ftyp(b"mif1", b"avif"), "image/avif", "AVIF"),
        # Camera RAW and Photoshop.
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "image/x-canon-cr2", "CR2"),
        (ftyp(b"crx ", b"crx ", b"isom"), "image/x-canon-cr3", "CR3"),
        (b"FUJIFILMCCD-RAW 0201FF383501", "image/x-fuji-raf", "RAF"),
        (b"IIRO\x08\x00\x00\x00", "image/x-olympus-orf", "ORF"),
        (b"IIU\x00\x08\x00\x00\x00", "image/x-panasonic-rw2", "RW2"),
        (DNG_HEAD, "image/x-adobe-dng", "DNG"),
        (b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03", "image/vnd.adobe.photoshop", "PSD"),
        (b"8BPS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x03", "image/vnd.adobe.photoshop", "PSB"),
    ],
)
def test_accepted_types_are_recognised_from_their_first_bytes(
    head: bytes, mime: str, label: str
) -> None:
    found = sniff(head[:HEAD_BYTES])
    assert (found.kind, found.mime, found.label) == (AssetKind.image, mime, label)


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (b"%PDF-1.7\n", "PDF document"),
        (b"PK\x03\x04\x14\x00", "ZIP archive"),
        (b"BM\x36\x00\x0c\x00", "BMP bitmap"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
        (b"\xffO\xffQ\x00)", "JPEG 2000"),
        (b"\x00\x00\x01\x00\x01\x00\x10\x10", "icon"),
        (b"P6\n128 128\n255\n", "Netpbm"),
        (b"qoif\x00\x00\x00\x80", "QOI"),
        (b"\xc5\xd0\xd3\xc6\x60\x1e", "EPS"),
        (b"DDS |\x00\x00\x00", "DirectDraw"),
        (b"<svg xmlns=", "SVG"),
        # Matroska, MP4 and MOV heads are videos now: tests/test_video_sniff.py.
        # A 256-byte ftyp box starts with the bytes of an icon header; the box wins.
        (b"\x00\x00\x01\x00ftypmif2" + b"\x00" * 20, "ISO media"),
    ],
)
def test_refusals_say_what_the_file_is(head: bytes, says: str) -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        sniff(head)
    assert says in refused.value.message
    assert "Beeldbank accepts JPEG, PNG" in refused.value.message
    assert message_problem(refused.value.message) is None


def test_empty_file_is_refused_as_empty() -> None:
    with pytest.raises(UnsupportedMedia, match=r"empty \(0 bytes\)"):
        sniff(b"")


@pytest.mark.parametrize(
    "head",
    [
        b"\x00" * 64,
        bytes(range(64)),
        b"hello, this is just text and not a photo at all...",
        b"\xff\xd8",  # two bytes of a JPEG marker are not a JPEG
        b"\x89PNG",  # nor is half a PNG signature
        b"RIFF\x10\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"8BPS\x00\x07",  # a Photoshop signature with no version Photoshop writes
    ],
)
def test_unknown_or_lookalike_heads_are_refused(head: bytes) -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        sniff(head)
    assert message_problem(refused.value.message) is None
