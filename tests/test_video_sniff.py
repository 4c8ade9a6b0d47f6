"""Video containers are recognised from their first bytes; audio and other formats are
refused with a message that says what the file is."""

from __future__ import annotations

import pytest

from dam.errors import UnsupportedMedia
from dam.models import AssetKind
from ingest.sniff import HEAD_BYTES, sniff
from tests.corpus import message_problem


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00\x00\x00\x08free"


def ts_packets(size: int, prefix: int = 0, count: int = 4) -> bytes:
    packet = b"\x00" * prefix + b"\x47\x40\x00\x10" + b"\xff" * (size - prefix - 4)
    return packet * count


EBML_WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"
EBML_MKV = b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x88matroska"
ASF = b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c" + b"\x00" * 16
OGG_PAGE = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x2a"
OGG_THEORA = OGG_PAGE + b"\x80theora\x03\x02\x01" + b"\x00" * 40
OGG_VORBIS = OGG_PAGE + b"\x01vorbis\x00\x00\x00\x00\x02" + b"\x00" * 40
# A PAL DV stream: a header DIF block (1f 07 00 bf), then a subcode block (3f ...).
DV = b"\x1f\x07\x00\xbf" + b"\xff" * 76 + b"\x3f\x07\x00" + b"\xff" * 77 + b"\x00" * 80
MXF = b"\x06\x0e\x2b\x34\x02\x05\x01\x01\x0d\x01\x02\x01\x01\x02\x04\x00" + b"\x00" * 16


@pytest.mark.parametrize(
    ("head", "mime", "label"),
    [
        (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4", "MP4"),
        (ftyp(b"mp42", b"mp42", b"isom"), "video/mp4", "MP4"),
        (ftyp(b"qt  ", b"qt  "), "video/quicktime", "QuickTime MOV"),
        (ftyp(b"M4V ", b"M4V ", b"mp42"), "video/x-m4v", "M4V"),
        (ftyp(b"3gp5", b"3gp5", b"isom"), "video/3gpp", "3GP"),
        (ftyp(b"3g2a", b"3g2a"), "video/3gpp2", "3G2"),
        (ftyp(b"XAVC", b"XAVC", b"mp42"), "video/mp4", "MP4"),  # Sony cameras
        (ftyp(b"abcd", b"isom"), "video/mp4", "MP4"),  # unknown major, known compatible
        (b"\x00\x00\x00\x08wide\x00\x10\x00\x00mdat", "video/quicktime", "QuickTime MOV"),
        (EBML_WEBM, "video/webm", "WebM"),
        (EBML_MKV, "video/x-matroska", "Matroska"),
        (b"RIFF\x00\x10\x00\x00AVI LIST", "video/x-msvideo", "AVI"),
        (ts_packets(188), "video/mp2t", "MPEG-TS"),
        (ts_packets(192, prefix=4), "video/mp2t", "M2TS"),
        (MXF, "application/mxf", "MXF"),
        (b"\x00\x00\x01\xba\x44\x00\x04\x00", "video/mpeg", "MPEG-PS"),  # MPG, VOB, MOD
        (b"\x00\x00\x01\xb3\x0a\x00\x78\x13", "video/mpeg", "MPEG video"),  # M1V
        (DV, "video/dv", "DV"),
        (ASF, "video/x-ms-asf", "WMV/ASF"),
        (b"FLV\x01\x05\x00\x00\x00\x09", "video/x-flv", "FLV"),
        (b"FLV\x01\x01\x00\x00\x00\x09", "video/x-flv", "FLV"),
        (OGG_THEORA, "video/ogg", "Ogg"),
    ],
)
def test_video_containers_are_recognised(head: bytes, mime: str, label: str) -> None:
    found = sniff(head[:HEAD_BYTES])
    assert (found.kind, found.mime, found.label) == (AssetKind.video, mime, label)


def test_a_heic_photo_is_still_a_photo() -> None:
    assert sniff(ftyp(b"heic", b"mif1", b"heic")).kind == AssetKind.image


def test_a_canon_raw_3_is_a_photo_not_a_video() -> None:
    assert sniff(ftyp(b"crx ", b"isom")).label == "CR3"


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (ftyp(b"M4A ", b"M4A ", b"isom"), "audio"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "MP3"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 40, "MP3"),
        (b"fLaC\x00\x00\x00\x22", "FLAC"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "WAV"),
        (b"FLV\x01\x04\x00\x00\x00\x09", "Flash audio"),
        (OGG_VORBIS, "Ogg recording"),
        (b".RMF\x00\x00\x00\x12", "RealMedia"),
        (b"#EXTM3U\n#EXT-X-VERSION:3\n", "playlist"),
    ],
)
def test_audio_and_other_formats_are_refused_with_a_reason(head: bytes, says: str) -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        sniff(head)
    assert says in refused.value.message
    assert message_problem(refused.value.message) is None


@pytest.mark.parametrize(
    "head",
    [
        b"\x47" + b"hello" * 30,  # one 'G' is no transport stream
        ts_packets(188, count=2)[:300],  # two packets are not enough to be sure
        b"RIFF\x10\x00\x00\x00AVIX",  # an AVI extension chunk, not a file start
        DV[:80] + b"\x00" * 80,  # a DIF header without the subcode block after it
    ],
)
def test_lookalikes_are_not_videos(head: bytes) -> None:
    with pytest.raises(UnsupportedMedia):
        sniff(head)


def test_the_refusal_lists_video_formats_too() -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        sniff(b"just some text, not a picture or a film")
    assert "MP4, MOV" in refused.value.message and "photos" in refused.value.message
