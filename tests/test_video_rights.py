"""A video's embedded rights (container tags and XMP) fill the licence record as a photo's
do: the fields nobody filled, never what a person entered. Clips made by ffmpeg with
-metadata; the XMP box is added to an ffmpeg MP4 here, as Premiere and Lightroom write it."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from dam.runtime import Runtime
from ingest.receive import create_asset
from ingest.sniff import HEAD_BYTES, sniff
from ingest.video.info import VideoInfo
from ingest.video.probe import probe
from ingest.video.stages import embedded_licence
from tests import video_clips as clips
from tests.video_clips import Clip

pytestmark = pytest.mark.one_database

RIGHTS = (
    "-metadata", "copyright=© Stad Gent 2020",
    "-metadata", "artist=Piet Beeld",
    "-metadata", "comment=Opname van de opening",
    "-metadata", "license=Alleen voor eigen kanalen",
)  # fmt: skip
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
 xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/">
<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">© Stad Gent, dienst Communicatie</rdf:li>
</rdf:Alt></dc:rights>
<dc:creator><rdf:Seq><rdf:li>An Filmer</rdf:li></rdf:Seq></dc:creator>
<photoshop:Credit>Video: Stad Gent</photoshop:Credit>
<xmpRights:UsageTerms><rdf:Alt><rdf:li xml:lang="x-default">Niet voor reclame</rdf:li>
</rdf:Alt></xmpRights:UsageTerms>
<xmpRights:WebStatement>https://stad.gent/rechten</xmpRights:WebStatement>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rights-clips")


def small(name: str, extension: str, extra: tuple[str, ...] = RIGHTS) -> Clip:
    return Clip(name, extension, size="160x120", rate=10, audio=None, extra=extra)


def probe_file(path: Path) -> VideoInfo:
    with path.open("rb") as fh:
        label = sniff(fh.read(HEAD_BYTES)).label
    return probe(path, label=label)


def with_xmp(source: Path, target: Path, packet: bytes) -> Path:
    """`source` (an ffmpeg MP4: ftyp, free, mdat, then moov) with an XMP uuid box as the
    last child of moov: nothing before it moves, so the chunk offsets stay right."""
    data = source.read_bytes()
    boxes, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        boxes.append((at, size, kind))
        at += size
    moov, size, kind = boxes[-1]
    assert kind == b"moov"
    box = struct.pack(">I4s", 8 + 16 + len(packet), b"uuid") + XMP_UUID + packet
    target.write_bytes(data[:moov] + struct.pack(">I", size + len(box)) + data[moov + 4 :] + box)
    return target


@pytest.mark.parametrize(
    ("extension", "terms"),
    [("mp4", None), ("mov", None), ("mkv", "Alleen voor eigen kanalen")],
)
def test_container_rights_tags_fill_the_licence(
    clip_dir: Path, extension: str, terms: str | None
) -> None:
    # ffmpeg writes copyright as MP4 `cprt`, QuickTime `©cpy`, Matroska COPYRIGHT; artist
    # as `©ART` or ARTIST; a licence only Matroska keeps (LICENSE).
    info = probe_file(clips.render(small(f"rights-{extension}", extension), clip_dir))
    expected = {"copyright": "© Stad Gent 2020", "creator": "Piet Beeld"}
    if terms:
        expected["terms"] = terms
    assert embedded_licence(info) == expected  # the comment is a description, not rights
    assert info.tags.description == "Opname van de opening"


def test_a_clip_without_rights_fills_nothing(clip_dir: Path) -> None:
    info = probe_file(clips.render(small("no-rights", "mp4", extra=()), clip_dir))
    assert embedded_licence(info) == {}


def test_xmp_in_an_mp4_fills_the_licence_first(clip_dir: Path) -> None:
    plain = clips.render(small("rights-xmp", "mp4"), clip_dir)
    info = probe_file(with_xmp(plain, clip_dir / "xmp.mp4", XMP.encode("utf-8")))
    assert info.xmp is not None and "Stad Gent" in info.xmp
    assert "xmp" not in info.facts()  # kept apart from the technical facts
    assert embedded_licence(info) == {
        "copyright": "© Stad Gent, dienst Communicatie",  # XMP before the `cprt` tag
        "credit": "Video: Stad Gent",
        "terms": "Niet voor reclame",
        "url": "https://stad.gent/rechten",
        "creator": "An Filmer",
    }


def test_hostile_xmp_in_an_mp4_fills_nothing(clip_dir: Path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>&b;</rdf:RDF></x:xmpmeta>'
    )
    plain = clips.render(small("no-rights-bomb", "mp4", extra=()), clip_dir)
    info = probe_file(with_xmp(plain, clip_dir / "bomb.mp4", bomb))
    assert info.xmp is not None and "ENTITY" in info.xmp  # it was read, then refused
    assert embedded_licence(info) == {}


def test_the_pipeline_fills_only_what_nobody_entered(rt: Runtime, clip_dir: Path) -> None:
    path = clips.render(small("rights-upload", "mp4"), clip_dir)
    stored = rt.blobs.put_file(path)
    with path.open("rb") as fh:
        sniffed = sniff(fh.read(HEAD_BYTES))
    with rt.session() as session:
        received = create_asset(
            session,
            stored=stored,
            sniffed=sniffed,
            filename=path.name,
            owner=None,
            licence={"copyright": "© Fotograaf zelf", "credit": ""},
        )
    row = clips.asset(rt, received.asset.id)
    assert row.licence["copyright"] == "© Fotograaf zelf"  # what the person entered
    assert row.licence["creator"] == "Piet Beeld"  # the file's, where nothing was
    assert "terms" not in row.licence  # MP4 has no licence tag
