"""Pure size arithmetic, perceptual hashes and placeholders."""

from __future__ import annotations

import io

import blurhash
import numpy as np
import pytest
from PIL import Image, ImageFilter

from ingest.demo import scene
from ingest.image import hashes
from ingest.image.geometry import fit_within, upright_size


@pytest.mark.parametrize(
    ("orientation", "upright"),
    [
        (None, (4000, 3000)),
        (1, (4000, 3000)),
        (2, (4000, 3000)),
        (3, (4000, 3000)),
        (4, (4000, 3000)),
        (5, (3000, 4000)),
        (6, (3000, 4000)),
        (7, (3000, 4000)),
        (8, (3000, 4000)),
        (0, (4000, 3000)),  # invalid values leave the image as stored
        (9, (4000, 3000)),
    ],
)
def test_upright_size_swaps_axes_for_quarter_turns(
    orientation: int | None, upright: tuple[int, int]
) -> None:
    assert upright_size(4000, 3000, orientation) == upright


@pytest.mark.parametrize(
    ("size", "long_edge", "fitted"),
    [
        ((6000, 4000), 2560, (2560, 1707)),
        ((4000, 6000), 2560, (1707, 2560)),
        ((3000, 2000), 400, (400, 267)),
        ((2560, 1000), 2560, (2560, 1000)),  # exactly the edge: untouched
        ((640, 480), 2560, (640, 480)),  # never upscaled
        ((1, 1), 400, (1, 1)),
        ((10000, 1), 400, (400, 1)),  # a sliver keeps at least one pixel
        ((1, 10000), 400, (1, 400)),
        ((3, 10000), 400, (1, 400)),  # 0.12 rounds to 0; one pixel is the floor
    ],
)
def test_fit_within(size: tuple[int, int], long_edge: int, fitted: tuple[int, int]) -> None:
    assert fit_within(*size, long_edge) == fitted


def _jpeg_roundtrip(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


@pytest.mark.parametrize("seed", range(20, 28))
def test_phash_is_stable_under_recompression_resizing_and_blur(seed: int) -> None:
    original = scene(800, 600, seed=seed)
    reference = hashes.phash(original)
    variants = {
        "jpeg q60": _jpeg_roundtrip(original, 60),
        "half size": original.resize((400, 300), Image.Resampling.BILINEAR),
        "double size": original.resize((1600, 1200), Image.Resampling.BICUBIC),
        "thumbnail": original.resize((160, 120), Image.Resampling.LANCZOS),
        "blur": original.filter(ImageFilter.GaussianBlur(1)),
    }
    distances = {name: hashes.hamming(reference, hashes.phash(v)) for name, v in variants.items()}
    # Within the 3-bit window the similar-asset hint searches (Settings.similar_max_distance).
    assert max(distances.values()) <= 3, distances


def test_phash_tells_different_pictures_apart() -> None:
    values = [hashes.phash(scene(400, 300, seed=seed)) for seed in range(30, 40)]
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            assert hashes.hamming(a, b) > 8


def test_phash_ignores_brightness_and_colour_but_not_a_mirror() -> None:
    original = scene(600, 400, seed=50)
    reference = hashes.phash(original)
    brighter = Image.eval(original, lambda v: min(255, v + 25))
    assert hashes.hamming(reference, hashes.phash(brighter)) <= 3
    assert hashes.hamming(reference, hashes.phash(original.convert("L"))) <= 1
    mirrored = original.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert hashes.hamming(reference, hashes.phash(mirrored)) > 8


def test_phash_of_a_flat_image_keeps_only_the_average_and_hex_is_sixteen_digits() -> None:
    flat = hashes.phash(Image.new("RGB", (64, 64), (120, 30, 200)))
    assert flat == 1 << 63  # only the DC term is above the (zero) median
    assert hashes.to_hex(flat) == "8" + "0" * 15
    assert hashes.to_hex(0) == "0" * 16


@pytest.mark.parametrize("value", [0, 1, 0xFFFF, 0x1234_5678_9ABC_DEF0, 2**64 - 1])
def test_bands_cut_the_hash_into_four_sixteen_bit_pieces(value: int) -> None:
    parts = hashes.bands(value)
    assert len(parts) == 4
    assert all(0 <= part < 2**16 for part in parts)
    assert sum(part << (16 * i) for i, part in enumerate(parts)) == value


def test_near_duplicates_share_a_band() -> None:
    # Within 3 differing bits at least one of the four bands is identical (pigeonhole):
    # the database finds similar assets by exact band matches.
    a = hashes.phash(scene(800, 600, seed=40))
    b = hashes.phash(scene(800, 600, seed=40).resize((300, 225), Image.Resampling.BILINEAR))
    assert 0 < hashes.hamming(a, b) <= 3 or a == b
    assert any(x == y for x, y in zip(hashes.bands(a), hashes.bands(b), strict=True))


@pytest.mark.parametrize(
    ("size", "components"),
    [((400, 300), (4, 3)), ((300, 400), (3, 4)), ((1, 1), (4, 3)), ((1, 400), (3, 4))],
)
def test_placeholder_is_a_blurhash_shaped_like_the_image(
    size: tuple[int, int], components: tuple[int, int]
) -> None:
    image = scene(*size, seed=5) if min(size) > 8 else Image.new("RGB", size, (10, 200, 30))
    code = hashes.placeholder(image)
    assert blurhash.components(code) == components
    # The placeholder's first component is the picture's average colour.
    average = image.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    decoded = np.asarray(blurhash.decode(code, 8, 8), dtype=np.float64).mean(axis=(0, 1))
    assert all(abs(d - a) <= 24 for d, a in zip(decoded, average, strict=True)), (decoded, average)


def test_placeholder_accepts_alpha_and_grey_images() -> None:
    rgba = scene(120, 80, seed=6).convert("RGBA")
    rgba.putalpha(128)
    assert blurhash.components(hashes.placeholder(rgba)) == (4, 3)
    grey = scene(80, 120, seed=7).convert("L")
    assert blurhash.components(hashes.placeholder(grey)) == (3, 4)
