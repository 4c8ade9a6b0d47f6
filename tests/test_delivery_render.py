"""Making a download from a photo file (dam/render.py, dam/file_metadata.py) and the ZIP
job's window of files made ahead: every EXIF orientation gives the crop of the upright
picture, metadata written in memory is what a write in place gives, and the job never
makes more than a few files ahead of the archive, however long the selection."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyexiv2
import pytest
from PIL import Image, ImageOps

from dam import file_metadata, presets, render
from dam.geometry import Box
from gdpr.publishing import download_packing
from ingest.demo import exif_block, jpeg_bytes, scene, store_oriented

pytestmark = pytest.mark.one_database

META = file_metadata.FileMetadata(
    title="Grote Markt",
    description="De Grote Markt bij avond.",
    alt_text="Een plein met verlichte gevels.",
    keywords=("markt", "avond"),
    creator="Jan Fotograaf",
    credit="Vlaamse overheid",
    copyright="CC BY 4.0",
    asset_id="01TESTASSET",
    link="https://beeldbank.example/assets/01TESTASSET",
)
BANNER = (1920, 600)


def _difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_gives_the_crop_of_the_upright_picture(
    orientation: int, tmp_path: Path
) -> None:
    """Cut and scaled as stored, turned upright last: the same pixels as cutting the
    upright picture, for all eight EXIF orientations (a crop off the centre, scaled 3x)."""
    upright = scene(1800, 1200, seed=orientation, noise=0)
    source = tmp_path / "camera.jpg"
    source.write_bytes(
        jpeg_bytes(
            store_oriented(upright, orientation),
            exif=exif_block(orientation=orientation),
            quality=95,
        )
    )
    box = Box(0.1, 0.2, 0.45, 0.6)  # 810 x 720 pixels of the upright picture
    spec = presets.resolve("custom", fmt="png", width=540, height=480, banner=BANNER)
    made = render.render(
        source,
        tmp_path / "out.png",
        spec=spec,
        choose=lambda w, h: box,
        meta=META,
        max_pixels=10**8,
    )
    assert (made.width, made.height) == (540, 480)
    # The reference: Pillow's own EXIF transpose of the decoded file, then the same cut.
    with Image.open(source) as stored:
        seen = ImageOps.exif_transpose(stored).convert("RGB")
    assert seen.size == (1800, 1200)
    reference = seen.resize((540, 480), Image.Resampling.LANCZOS, box=(180, 240, 990, 960))
    with Image.open(made.path) as out:
        assert out.getexif().get(0x0112) == 1  # upright pixels say so
        pixels = out.convert("RGB")
    assert _difference(pixels, reference) < 1.0
    # A wrong turn would show another part of the picture.
    assert _difference(pixels, reference.transpose(Image.Transpose.ROTATE_180)) > 10


@pytest.mark.parametrize(
    ("orientation", "box", "expected"),
    [
        (1, Box(0.1, 0.2, 0.3, 0.4), (100.0, 400.0, 400.0, 1200.0)),
        (3, Box(0.1, 0.2, 0.3, 0.4), (600.0, 800.0, 900.0, 1600.0)),
        (6, Box(0.1, 0.2, 0.3, 0.4), (200.0, 1200.0, 600.0, 1800.0)),
        (8, Box(0.1, 0.2, 0.3, 0.4), (400.0, 200.0, 800.0, 800.0)),
    ],
)
def test_a_crop_of_the_upright_picture_maps_onto_the_stored_one(
    orientation: int, box: Box, expected: tuple[float, float, float, float]
) -> None:
    """A 1000 x 2000 picture as stored: the same region in stored pixels."""
    stored = render.stored_rect(box, orientation, 1000, 2000)
    assert stored == pytest.approx(expected)


def test_metadata_written_in_memory_equals_a_write_in_place(tmp_path: Path) -> None:
    buffer = scene(320, 200, seed=4).convert("RGB")
    path = tmp_path / "in-place.jpg"
    buffer.save(path, "JPEG", quality=85)
    data = path.read_bytes()
    file_metadata.write(path, "jpeg", META)
    in_memory = file_metadata.written(data, "jpeg", META)
    assert in_memory == path.read_bytes()
    with pyexiv2.ImageData(in_memory) as img:
        xmp, iptc = img.read_xmp(), img.read_iptc()
    assert xmp["Xmp.dc.title"] == {'lang="x-default"': "Grote Markt"}
    assert xmp["Xmp.iptcExt.AltTextAccessibility"] == {
        'lang="x-default"': "Een plein met verlichte gevels."
    }
    assert xmp["Xmp.photoshop.Credit"] == "Vlaamse overheid"
    assert xmp["Xmp.beeldbank.AssetId"] == "01TESTASSET"
    assert iptc["Iptc.Application2.ObjectName"] == "Grote Markt"


def test_a_full_size_print_file_gets_the_same_metadata_written_in_place(tmp_path: Path) -> None:
    """Above IN_MEMORY_PIXELS the file is encoded to disk and edited there (not held in
    memory twice): the same metadata, and print keeps a colour profile."""
    source = tmp_path / "scan.jpg"
    Image.new("RGB", (3400, 2400), (120, 90, 60)).save(source, "JPEG", quality=90)
    assert render.IN_MEMORY_PIXELS < 3400 * 2400
    spec = presets.resolve("print", fmt=None, width=None, height=None, banner=BANNER)
    made = render.render(
        source,
        tmp_path / "print.jpg",
        spec=spec,
        choose=lambda w, h: Box(0, 0, 1, 1),
        meta=META,
        max_pixels=10**8,
    )
    assert (made.width, made.height) == (3400, 2400)
    with pyexiv2.Image(str(made.path)) as img:
        xmp, iptc = img.read_xmp(), img.read_iptc()
    assert xmp["Xmp.dc.title"] == {'lang="x-default"': "Grote Markt"}
    assert xmp["Xmp.beeldbank.AssetId"] == "01TESTASSET"
    assert iptc["Iptc.Application2.Credit"] == "Vlaamse overheid"
    with Image.open(made.path) as out:
        assert out.info.get("icc_profile")


XMP_WITH_SERIAL = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
    b' xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" aux:SerialNumber="SN-4711-0815"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


@pytest.mark.parametrize(
    ("name", "fmt", "preset", "save"),
    [
        # A camera's JPEG comment (free text) in a photo scaled down for the web.
        ("camera.jpg", "jpeg", "web", {"format": "JPEG", "comment": b"Body SN-4711-0815"}),
        # A scan's own XMP in a print file of the same size (nothing cut, scaled, turned).
        ("scan.tif", "tiff", "print", {"format": "TIFF", "tiffinfo": {700: XMP_WITH_SERIAL}}),
        ("scan.tif", "jpeg", "print", {"format": "TIFF", "tiffinfo": {700: XMP_WITH_SERIAL}}),
    ],
)
def test_nothing_of_the_source_file_travels_but_what_is_written(
    name: str, fmt: str, preset: str, save: dict[str, object], tmp_path: Path
) -> None:
    source = tmp_path / name
    Image.new("RGB", (2000, 1200) if preset == "web" else (600, 400), (40, 90, 160)).save(
        source, **save
    )
    spec = presets.resolve(preset, fmt=fmt, width=None, height=None, banner=BANNER)
    made = render.render(
        source,
        tmp_path / f"out.{fmt}",
        spec=spec,
        choose=lambda w, h: Box(0, 0, 1, 1),
        meta=META,
        max_pixels=10**8,
    )
    data = made.path.read_bytes()
    assert b"SN-4711" not in data
    assert b"Grote Markt" in data  # what is written is there


def test_the_zip_job_makes_only_a_few_files_ahead_of_the_archive(tmp_path: Path) -> None:
    """However long the selection, at most AHEAD files exist that the archive has not
    taken yet; what was made ahead when the archive gives up is removed."""
    lock = threading.Lock()
    started: list[int] = []

    def make(item: tuple[int, str]) -> tuple[dict[str, str], Path | None, bool]:
        number, name = item
        with lock:
            started.append(number)
        path = tmp_path / f"{number:03d}.jpg"
        path.write_bytes(name.encode())
        return {"file": name}, path, True

    items = [(n, f"asset-{n}") for n in range(1, 41)]
    with ThreadPoolExecutor(download_packing.WORKERS) as pool:
        handed = []
        for outcome, path, _ in download_packing.made_in_order(pool, make, items):
            number = len(handed) + 1
            assert outcome["file"] == f"asset-{number}"  # in order
            with lock:
                assert max(started) <= number + download_packing.AHEAD
            assert len(list(tmp_path.iterdir())) <= download_packing.AHEAD
            assert path is not None
            path.unlink()
            handed.append(number)
        assert handed == list(range(1, 41))

        started.clear()
        made = download_packing.made_in_order(pool, make, items)
        for _ in range(3):
            next(made)[1].unlink()  # type: ignore[union-attr]
        made.close()  # the archive gave up after three files
    assert list(tmp_path.iterdir()) == []
    assert len(started) <= 3 + download_packing.AHEAD  # the rest was never made
