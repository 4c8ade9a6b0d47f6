"""The renditions' shrink (ingest/image/resample.py): OpenCV running Pillow's Lanczos-3, so
it must give Pillow's picture and keep what Pillow's resize keeps."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ingest.image.decode import to_display_mode
from ingest.image.resample import shrink
from tests.test_image_formats import adobe_rgb_profile


def textured(width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width]
    waves = 128 + 60 * np.sin(x / 7.0) * np.cos(y / 11.0)
    noise = rng.normal(0, 12, (height, width, 3))
    pixels = np.clip(waves[..., None] + noise + [0, 20, -20], 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def test_a_shrink_by_less_than_half_gives_pillows_lanczos_picture() -> None:
    picture = textured(900, 600)
    ours = np.asarray(shrink(picture, (768, 512)), np.int16)
    pillow = np.asarray(picture.resize((768, 512), Image.Resampling.LANCZOS), np.int16)
    assert ours.shape == pillow.shape
    assert float(np.abs(ours - pillow).mean()) < 1.5


def test_a_shrink_keeps_the_colour_profile_so_the_picture_becomes_srgb() -> None:
    # An Adobe RGB photo is shrunk first and converted to sRGB after: without its profile
    # the conversion would not happen and every colour would be off.
    picture = textured(900, 600)
    picture.info["icc_profile"] = adobe_rgb_profile()
    shrunk = shrink(picture, (768, 512))
    assert shrunk.info.get("icc_profile") == picture.info["icc_profile"]
    by_pillow = picture.resize((768, 512), Image.Resampling.LANCZOS)
    ours = np.asarray(to_display_mode(shrunk), np.int16)
    expected = np.asarray(to_display_mode(by_pillow), np.int16)
    unconverted = np.asarray(shrunk, np.int16)
    assert float(np.abs(ours - expected).mean()) < 2.0
    assert float(np.abs(ours - unconverted).mean()) > 4.0  # it was converted


def test_other_modes_and_bigger_steps_stay_with_pillow() -> None:
    picture = textured(900, 600)
    quarter = shrink(picture, (225, 150))
    assert np.array_equal(
        np.asarray(quarter),
        np.asarray(picture.resize((225, 150), Image.Resampling.LANCZOS, reducing_gap=2.0)),
    )
    with_alpha = picture.convert("RGBA")
    assert shrink(with_alpha, (768, 512)).mode == "RGBA"
