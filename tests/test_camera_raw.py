"""Camera RAW, Photoshop documents and TIFFs of several pages, through the photo pipeline.

The RAW files are DNGs written by tests/raw_samples.py (a Bayer mosaic of a known scene,
shot under a warm light, with the camera's white balance in its tags), with and without a
full-size preview; LibRaw reads them as it reads a camera's. The PSDs are written with
psd-tools. Other RAW containers (CR2, CR3, NEF, ARW, RAF, ORF, RW2) go through the same
LibRaw calls; their sniffing is tested in tests/test_sniff.py.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dam.models import AssetStatus
from dam.runtime import Runtime
from ingest.image import camera_raw, layered
from ingest.image.decode import main_page
from tests import video_clips as store
from tests.raw_samples import make_dng, psd_bomb

pytestmark = [pytest.mark.timeout(120), pytest.mark.one_database]


def largest(rt: Runtime, asset_id: str) -> np.ndarray:
    made = store.renditions(rt, asset_id)
    biggest = max((r for r in made.values() if r.mime.startswith("image/")), key=lambda r: r.width)
    with Image.open(rt.blobs.root / biggest.path) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def region(pixels: np.ndarray, row: float, column: float) -> np.ndarray:
    """The mean colour around a point given as fractions of the height and width."""
    h, w = pixels.shape[:2]
    y, x = int(row * h), int(column * w)
    return pixels[max(0, y - 4) : y + 4, max(0, x - 4) : x + 4].reshape(-1, 3).mean(axis=0)


def is_red(colour: np.ndarray) -> bool:
    return bool(colour[0] > 120 and colour[1] < 90 and colour[2] < 90)


def is_blue(colour: np.ndarray) -> bool:
    return bool(colour[2] > 120 and colour[0] < 90 and colour[1] < 90)


def is_grey(colour: np.ndarray) -> bool:
    return bool(colour.max() - colour.min() < 12)


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "developed"])
def test_a_dng_becomes_upright_renditions_with_its_exif(
    rt: Runtime, tmp_path: Path, preview: bool
) -> None:
    # Orientation 6: the camera was turned a quarter clockwise, the picture must be too.
    path = make_dng(tmp_path / "photo.dng", preview=preview, orientation=6)
    asset_id = store.store(rt, path)
    row = store.asset(rt, asset_id)
    assert row.status == AssetStatus.ready, row.error
    assert (row.width, row.height) == (480, 640)  # upright
    assert row.meta["camera"] == "Beeldbank Test Camera"
    assert row.meta["creator"] == "Ann Archive" and row.meta["copyright"] == "Stad Gent"
    assert row.taken_at is not None and row.taken_at.replace(tzinfo=None).isoformat().startswith(
        "2009-06-15T"
    )
    pixels = largest(rt, asset_id)
    assert pixels.shape[:2] == (640, 480)
    # The sensor's top left (red) is the upright top right; its bottom right (blue) the
    # bottom left.
    assert is_red(region(pixels, 0.1, 0.9)), region(pixels, 0.1, 0.9)
    assert is_blue(region(pixels, 0.9, 0.1)), region(pixels, 0.9, 0.1)
    centre = region(pixels, 0.5, 0.5)
    if preview:
        assert centre.min() > 240  # the preview's white square: made from the preview
    else:
        # Developed with the camera's white balance: the warm light's grey is grey again.
        assert is_grey(centre) and 60 < centre.mean() < 240, centre
    original = rt.blobs.original_path(row.sha256)
    assert original.read_bytes() == path.read_bytes()  # kept as it came


def test_a_raw_without_white_balance_correction_would_be_tinted(tmp_path: Path) -> None:
    """The control for the grey above: the mosaic itself is warm."""
    import rawpy

    path = make_dng(tmp_path / "photo.dng", preview=False)
    with rawpy.imread(str(path)) as raw:
        plain = raw.postprocess(use_camera_wb=False, user_wb=[1, 1, 1, 1], output_bps=8)
    centre = region(plain.astype(int), 0.5, 0.5)
    assert not is_grey(centre), centre


def test_a_raw_is_planned_from_its_header_before_any_decode(tmp_path: Path) -> None:
    # 108 megapixels stated, 600 kB held: LibRaw's header says what a development costs.
    path = make_dng(tmp_path / "huge.dng", preview=False, claim=(12000, 9000))
    facts = camera_raw.read_facts(path, label="DNG")
    assert (facts.width, facts.height) == (12000, 9000) and facts.preview is None
    need = camera_raw.decode_need(facts, 2560)
    assert need > 108_000_000 * 2  # at least the unpacked mosaic
    small = make_dng(tmp_path / "small.dng", preview=True)
    with_preview = camera_raw.read_facts(small, label="DNG")
    assert camera_raw.use_preview(with_preview, 2560)
    assert camera_raw.decode_need(with_preview, 2560) < camera_raw.decode_need(
        camera_raw.read_facts(make_dng(tmp_path / "plain.dng", preview=False), label="DNG"),
        2560,
    )


@pytest.fixture
def settings(settings_factory):  # type: ignore[no-untyped-def]
    return settings_factory(job_memory_mb=512)


def test_a_raw_over_the_memory_budget_fails_before_decoding(rt: Runtime, tmp_path: Path) -> None:
    path = make_dng(tmp_path / "huge.dng", preview=False, claim=(12000, 9000))
    row = store.asset(rt, store.store(rt, path))
    assert row.status == AssetStatus.failed
    assert row.error is not None and "12,000 × 9,000 pixels" in row.error
    assert "more than the 512 MB this server gives one job" in row.error


def test_a_damaged_raw_fails_with_a_reason_and_is_kept(rt: Runtime, tmp_path: Path) -> None:
    whole = make_dng(tmp_path / "photo.dng", preview=False).read_bytes()
    # The IFDs are at the end: cut there, the mosaic is described by nothing.
    cut = tmp_path / "cut.dng"
    cut.write_bytes(whole[:8] + b"\xff\xff\xff\x7f" + whole[12 : len(whole) // 2])
    row = store.asset(rt, store.store(rt, cut))
    assert row.status == AssetStatus.failed and row.error
    assert "Traceback" not in row.error
    assert rt.blobs.original_path(row.sha256).read_bytes() == cut.read_bytes()


def photoshop_picture() -> Image.Image:
    image = Image.new("RGB", (320, 240), (200, 30, 30))
    image.paste((30, 30, 200), (160, 0, 320, 240))
    return image


@pytest.mark.parametrize("version", [1, 2], ids=["psd", "psb"])
def test_a_photoshop_document_shows_its_composite(
    rt: Runtime, tmp_path: Path, version: int
) -> None:
    from psd_tools import PSDImage
    from psd_tools.constants import Compression

    psd = PSDImage.frompil(photoshop_picture(), compression=Compression.RAW)
    psd._record.header.version = version  # 2: the large document format (PSB)
    path = tmp_path / ("art.psd" if version == 1 else "art.psb")
    psd.save(path)
    header = layered.read_header(path, label="PSD")
    assert (header.width, header.height, header.depth) == (320, 240, 8)
    row = store.asset(rt, store.store(rt, path))
    assert row.status == AssetStatus.ready, row.error
    assert (row.width, row.height) == (320, 240)
    pixels = largest(rt, row.id)
    assert is_red(region(pixels, 0.5, 0.25)) and is_blue(region(pixels, 0.5, 0.75))


def test_a_photoshop_documents_xmp_is_read_without_parsing_the_document(
    tmp_path: Path,
) -> None:
    from psd_tools import PSDImage
    from psd_tools.psd.image_resources import ImageResource

    psd = PSDImage.frompil(photoshop_picture())
    packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + b" " * 301 + b"</x:xmpmeta>"
    psd._record.image_resources[1060] = ImageResource(key=1060, name="odd", data=packet)
    path = tmp_path / "met-xmp.psd"
    psd.save(path)
    assert layered.read_xmp(path) == packet == PSDImage.open(path).image_resources.get_data(1060)
    whole = path.read_bytes()
    # Cut inside the resources, and a block claiming more than the section holds: none.
    at = whole.index(packet)
    (tmp_path / "cut.psd").write_bytes(whole[: at + 10])
    assert layered.read_xmp(tmp_path / "cut.psd") is None
    size_at = at - 4
    huge = whole[:size_at] + (2**31).to_bytes(4, "big") + whole[size_at + 4 :]
    (tmp_path / "huge.psd").write_bytes(huge)
    assert layered.read_xmp(tmp_path / "huge.psd") is None
    PSDImage.frompil(photoshop_picture()).save(tmp_path / "zonder.psd")
    assert layered.read_xmp(tmp_path / "zonder.psd") is None


def test_a_photoshop_bomb_is_stopped_in_its_child_with_the_reason(
    rt: Runtime, tmp_path: Path
) -> None:
    # 64 x 48 by its header (well within every budget), one layer of 12,000² by its
    # records: psd-tools would need 3.5 GB to composite it.
    path = psd_bomb(tmp_path / "bom.psd", 12_000)
    assert path.stat().st_size < 1024**2
    row = store.asset(rt, store.store(rt, path))
    assert row.status == AssetStatus.failed
    assert row.error is not None and "Traceback" not in row.error
    assert "needs far more memory than its size allows" in row.error
    assert rt.blobs.original_path(row.sha256).read_bytes() == path.read_bytes()


def test_the_address_space_cap_stops_what_psd_tools_does_not_foresee(tmp_path: Path) -> None:
    from ingest import child_process

    path = psd_bomb(tmp_path / "bom.psd", 6_000)
    # psd-tools' own check switched off: only the cap of the child's address space is left.
    args = ["composite", str(path), str(tmp_path / "out"), "unlimited"]
    try:
        answer = child_process.run_json(layered.CHILD, args, memory=600 * 1024**2, timeout_s=90)
    except child_process.ChildTimedOut:
        raise  # a hang is not what this is about
    except child_process.ChildFailed:
        answer = {"error": "memory"}  # killed outright by the cap: as good
    assert answer.get("error") == "memory"
    assert not (tmp_path / "out").exists()


def test_a_photoshop_header_claiming_a_huge_picture_is_refused_before_parsing(
    rt: Runtime, tmp_path: Path
) -> None:
    header = b"8BPS" + (1).to_bytes(2, "big") + bytes(6) + (3).to_bytes(2, "big")
    header += (29_000).to_bytes(4, "big") + (29_000).to_bytes(4, "big")  # height, width
    header += (8).to_bytes(2, "big") + (3).to_bytes(2, "big")  # depth, RGB
    path = tmp_path / "groot.psd"
    path.write_bytes(header + bytes(4096))
    row = store.asset(rt, store.store(rt, path))
    assert row.status == AssetStatus.failed
    assert row.error is not None and "29,000 × 29,000 pixels" in row.error


def test_a_damaged_photoshop_document_fails_with_a_reason(rt: Runtime, tmp_path: Path) -> None:
    from psd_tools import PSDImage

    PSDImage.frompil(photoshop_picture()).save(tmp_path / "heel.psd")
    whole = (tmp_path / "heel.psd").read_bytes()
    path = tmp_path / "kapot.psd"
    path.write_bytes(whole[:26] + b"\xff" * 64 + whole[90:200])
    row = store.asset(rt, store.store(rt, path))
    assert row.status == AssetStatus.failed
    assert row.error is not None and "PSD file could not be read" in row.error


def test_a_tiff_of_several_pages_shows_its_largest_page(rt: Runtime, tmp_path: Path) -> None:
    thumbnail = Image.new("RGB", (64, 48), (0, 160, 0))  # a green thumbnail page first
    full = photoshop_picture().resize((640, 480))
    path = tmp_path / "scan.tif"
    thumbnail.save(path, "TIFF", save_all=True, append_images=[full])
    with Image.open(path) as image:
        assert image.n_frames == 2 and main_page(image) == 1
    row = store.asset(rt, store.store(rt, path))
    assert row.status == AssetStatus.ready, row.error
    assert (row.width, row.height) == (640, 480)
    pixels = largest(rt, row.id)
    assert is_red(region(pixels, 0.5, 0.25)) and is_blue(region(pixels, 0.5, 0.75))


def test_a_reduced_resolution_page_is_never_the_main_one(tmp_path: Path) -> None:
    from PIL import TiffImagePlugin

    path = tmp_path / "pages.tif"
    big = Image.new("RGB", (300, 200), (0, 0, 255))
    first = Image.new("RGB", (200, 100), (255, 0, 0))
    reduced = TiffImagePlugin.ImageFileDirectory_v2()
    reduced[254] = 1  # NewSubfileType: a reduced-resolution copy, larger than page 0
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=[big])
    path.write_bytes(buffer.getvalue())
    with Image.open(path) as image:
        assert main_page(image) == 1
    # The same pages with the larger one marked as a preview: page 0 is the picture.
    with TiffImagePlugin.AppendingTiffWriter(path, new=True) as tiff:
        first.save(tiff, "TIFF")
        tiff.newFrame()
        big.save(tiff, "TIFF", tiffinfo=reduced)
    with Image.open(path) as image:
        assert image.n_frames == 2 and main_page(image) == 0


@pytest.mark.timeout(600)  # each Photoshop file is a child process: seconds under load
def test_photoshop_and_multipage_tiffs_from_pillows_corpus(tmp_path: Path) -> None:
    """Real Photoshop files (and fuzzed ones: out-of-bounds writes, timeouts, huge byte
    counts) and Pillow's multi-page TIFFs: each becomes a picture or a refusal in words."""
    from dam.errors import ProcessingError
    from ingest.image.decode import decode_for_renditions, open_image
    from ingest.sniff import HEAD_BYTES, sniff
    from tests.corpus import message_problem, pillow_tests_dir

    images = pillow_tests_dir() / "images"
    files = sorted(images.glob("*.psd")) + sorted(images.glob("multipage*.tif*"))
    assert len(files) >= 10
    decoded = {}
    for path in files:
        label = sniff(path.read_bytes()[:HEAD_BYTES]).label
        try:
            with open_image(path, label=label, max_pixels=50_000_000) as image:
                decoded[path.name] = decode_for_renditions(
                    image, label=label, path=path, long_edge=1024
                ).size
        except ProcessingError as refused:
            assert message_problem(refused.message) is None, (path.name, refused.message)
    assert decoded["hopper.psd"] == (128, 128) and decoded["rgba.psd"] == (100, 100)
    assert decoded["multipage.tiff"] == (20, 20)  # pages of 10, 10 and 20 pixels: the largest
