"""gdpr/requests/metadata_scrub.py on real files: the name leaves every metadata block (IPTC, XMP,
EXIF, PNG text) in every spelling, the pixels stay exactly as they were, and the blocks
still read."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, IptcImagePlugin, PngImagePlugin

from gdpr.requests import metadata_scrub
from gdpr.requests.metadata_scrub import contains, replace_all, scrub, scrub_chunks
from ingest.demo import exif_block, jpeg_bytes, scene, xmp_packet
from ingest.image.metadata import IPTC, parse_xmp

NAME = "Zyxwvut Qprstoñ"


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def named_jpeg() -> bytes:
    exif = exif_block(artist=NAME.upper(), description=f"{NAME} bij de opening")
    exif[0x9C9E] = f"{NAME};bibliotheek".encode("utf-16-le") + b"\x00\x00"  # XPKeywords
    regions = (
        '<mwg-rs:Regions xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/">'
        f"<mwg-rs:RegionList><rdf:Bag><rdf:li><mwg-rs:Name>{NAME}</mwg-rs:Name></rdf:li>"
        "</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>"
    )
    xmp = xmp_packet(description=f"Met {NAME.lower()}", keywords=[NAME, "lint"]).replace(
        b"</rdf:Description>", regions.encode() + b"</rdf:Description>", 1
    )
    return jpeg_bytes(
        scene(96, 64, seed=5),
        exif=exif,
        xmp=xmp,
        iptc={IPTC["caption"]: f"{NAME} knipt een lint door", IPTC["keywords"]: [NAME, "lint"]},
    )


def test_a_jpeg_loses_the_name_in_every_block_and_keeps_its_pixels() -> None:
    data = named_jpeg()
    assert contains(data, NAME)
    new, count = scrub(data, NAME)
    assert count >= 7 and len(new) == len(data)
    assert not contains(new, NAME)
    for word in NAME.split():  # no spelling anywhere, in any case or encoding
        for encoding in ("utf-8", "utf-16-le"):
            assert word.lower().encode(encoding) not in new.lower()
    assert np.array_equal(pixels(new), pixels(data))
    with Image.open(io.BytesIO(new)) as image:
        iptc = IptcImagePlugin.getiptcinfo(image) or {}
        assert iptc[IPTC["caption"]].decode().startswith("[…]")
        exif = image.getexif()
        assert exif[0x013B].startswith("[")  # Artist (ASCII: read as Latin-1)
        xmp = parse_xmp(image.info["xmp"])
    assert xmp["description"].startswith("Met […]")
    assert xmp["keywords"][0].startswith("[…]") and xmp["keywords"][1] == "lint"


def test_a_png_loses_the_name_in_plain_and_compressed_text() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", f"{NAME} bij de opening")
    info.add_text("Comment", f"Met {NAME}", zip=True)
    info.add_itxt("XML:com.adobe.xmp", f"<x>{NAME}</x>", zip=True)
    info.add_itxt("Title", f"{NAME.upper()}")
    buffer = io.BytesIO()
    scene(40, 30, seed=2).save(buffer, "PNG", pnginfo=info)
    data = buffer.getvalue()
    new, count = scrub(data, NAME)
    assert count == 4 and not contains(new, NAME)
    assert np.array_equal(pixels(new), pixels(data))
    with Image.open(io.BytesIO(new)) as image:
        image.load()
        assert image.text["Description"].startswith("[...]")  # type: ignore[attr-defined]
        assert image.text["Comment"].startswith("Met [...]")  # type: ignore[attr-defined]


def test_other_files_keep_their_length() -> None:
    box = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 20 + b"\x00\x00\x00\x1c\xa9nam" + NAME.encode()
    new, count = scrub(box, NAME)
    assert count == 1 and len(new) == len(box) and not contains(new, NAME)


@pytest.mark.parametrize("size", [1, 3, 7, 16, 4096])
def test_a_stream_finds_the_name_across_chunk_boundaries(size: int) -> None:
    data = (b"a" * 50 + NAME.encode() + b"b" * 13 + NAME.upper().encode("utf-16-be")) * 3
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    out = list(scrub_chunks(chunks, NAME))
    assert b"".join(chunk for chunk, _ in out) == replace_all(data, NAME)[0]
    assert sum(count for _, count in out) == 6


def test_placeholders_have_the_length_of_what_they_replace() -> None:
    for raw, filler in metadata_scrub.variants(NAME):
        assert len(raw) == len(filler)
    assert metadata_scrub.variants("  ") == []
