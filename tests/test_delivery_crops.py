"""Crops that keep people whole, and presets: the pure cores, table-driven."""

from __future__ import annotations

import numpy as np
import pytest

from dam import crops, presets
from dam.errors import InvalidInput
from dam.geometry import Box

BANNER = (1920, 600)


@pytest.mark.parametrize(
    ("label", "size", "aspect", "faces"),
    [
        # A standing man in a portrait photo: his head is at the top; a square must not
        # cut it off (the grid used to show his torso).
        ("standing man, square", (2000, 3000), 1.0, [Box(0.42, 0.06, 0.16, 0.1)]),
        ("standing man, landscape", (2000, 3000), 16 / 9, [Box(0.42, 0.06, 0.16, 0.1)]),
        ("face at the bottom right", (3000, 2000), 1.0, [Box(0.8, 0.7, 0.1, 0.15)]),
        (
            "two people, story",
            (3000, 2000),
            9 / 16,
            [Box(0.3, 0.2, 0.06, 0.1), Box(0.45, 0.25, 0.06, 0.1)],
        ),
        (
            "group, banner",
            (4000, 3000),
            1920 / 600,
            [Box(x, 0.3, 0.05, 0.07) for x in (0.1, 0.3, 0.5, 0.7, 0.85)],
        ),
        ("face at the very top edge", (1000, 1500), 1.0, [Box(0.4, 0.0, 0.2, 0.12)]),
    ],
)
def test_the_automatic_crop_holds_every_face_whole_with_headroom(
    label: str, size: tuple[int, int], aspect: float, faces: list[Box]
) -> None:
    width, height = size
    crop = crops.face_crop(width, height, aspect, faces)
    assert crop is not None and crop.source == "faces"
    box = crop.box
    assert crop.faces_whole, label
    for face in faces:
        assert box.contains(crops.with_headroom(face)), label
    # Of the preset's shape, within the picture, as large as the picture allows.
    assert box.w * width / (box.h * height) == pytest.approx(aspect, rel=1e-6)
    assert box.x >= 0 and box.y >= 0 and box.right <= 1 + 1e-9 and box.bottom <= 1 + 1e-9
    assert max(box.w, box.h) == pytest.approx(1.0)


def test_the_crop_is_centred_on_the_faces_where_the_picture_allows() -> None:
    face = Box(0.45, 0.45, 0.1, 0.1)
    crop = crops.face_crop(3000, 2000, 1.0, [face])
    assert crop is not None
    padded = crops.with_headroom(face)
    centre_faces = padded.x + padded.w / 2
    assert crop.box.x + crop.box.w / 2 == pytest.approx(centre_faces, abs=1e-6)


def test_faces_too_far_apart_for_the_shape_are_reported_not_whole() -> None:
    faces = [Box(0.02, 0.4, 0.08, 0.1), Box(0.9, 0.4, 0.08, 0.1)]
    crop = crops.face_crop(4000, 2000, 9 / 16, faces)
    assert crop is not None and not crop.faces_whole


def test_without_faces_there_is_no_face_crop() -> None:
    assert crops.face_crop(100, 100, 1.0, []) is None


@pytest.mark.parametrize(
    ("where", "expect_x", "expect_y"),
    [("right", 1.0, None), ("left", 0.0, None), ("top", None, 0.0), ("bottom", None, 1.0)],
)
def test_the_attention_crop_goes_where_the_detail_is(
    where: str, expect_x: float | None, expect_y: float | None
) -> None:
    energy = np.zeros((40, 40), dtype=np.float32)
    region = {
        "right": (slice(15, 25), slice(34, 40)),
        "left": (slice(15, 25), slice(0, 6)),
        "top": (slice(0, 6), slice(15, 25)),
        "bottom": (slice(34, 40), slice(15, 25)),
    }[where]
    energy[region] = 1.0
    wide = expect_x is not None
    width, height = (2000, 1000) if wide else (1000, 2000)
    crop = crops.attention_crop(energy, width, height, 1.0)
    box = crop.box
    if expect_x is not None:
        assert (box.x if expect_x == 0 else box.right) == pytest.approx(expect_x, abs=0.03)
    if expect_y is not None:
        assert (box.y if expect_y == 0 else box.bottom) == pytest.approx(expect_y, abs=0.03)


def test_a_flat_picture_is_cut_in_the_middle() -> None:
    crop = crops.attention_crop(np.ones((30, 60), dtype=np.float32), 2000, 1000, 1.0)
    assert crop.box.x == pytest.approx(0.25, abs=0.03)


@pytest.mark.parametrize(
    "text", ["", "1,2,3", "a,b,c,d", "0.5,0.5,0.6,0.1", "-0.1,0,0.5,0.5", "0,0,0,0.5", "nan,0,1,1"]
)
def test_a_crop_outside_the_picture_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        crops.parse_box(text)


def test_a_crop_narrowed_to_a_shape_keeps_its_centre() -> None:
    fitted = crops.aspect_fit(Box(0.0, 0.0, 1.0, 1.0), 3000, 2000, 1.0)
    assert fitted == Box(pytest.approx(1 / 6), 0.0, pytest.approx(2 / 3), 1.0)  # type: ignore[arg-type]


def test_the_grid_focus_follows_the_crop() -> None:
    assert crops.focus(crops.Crop(Box(0.0, 0.0, 1.0, 2 / 3), "faces")) == (50.0, 0.0)
    assert crops.focus(crops.Crop(Box(0.5, 0.0, 0.5, 1.0), "faces")) == (100.0, 50.0)


@pytest.mark.parametrize(
    ("preset", "fmt", "width", "height", "expected"),
    [
        ("large", None, None, None, ("jpeg", 2560, 2560)),
        ("web", "webp", None, None, ("webp", 1600, 1600)),
        ("print", None, None, None, ("jpeg", 0, 0)),
        ("print", "tiff", None, None, ("tiff", 0, 0)),
        ("square", "avif", None, None, ("avif", 1080, 1080)),
        ("portrait", None, None, None, ("jpeg", 1080, 1350)),
        ("landscape", "png", None, None, ("png", 1920, 1080)),
        ("story", None, None, None, ("jpeg", 1080, 1920)),
        ("banner", None, None, None, ("jpeg", 1920, 600)),
        ("custom", "webp", 800, 200, ("webp", 800, 200)),
        ("web", None, 1000, None, ("jpeg", 1000, 1600)),
        ("original", None, None, None, ("original", 0, 0)),
    ],
)
def test_presets_resolve(
    preset: str,
    fmt: str | None,
    width: int | None,
    height: int | None,
    expected: tuple[str, int, int],
) -> None:
    spec = presets.resolve(preset, fmt=fmt, width=width, height=height, banner=BANNER)
    assert (spec.fmt, spec.width, spec.height) == expected
    assert spec.preset.quality == (95 if preset == "print" else 85)


@pytest.mark.parametrize(
    ("preset", "fmt", "width", "height"),
    [
        ("huge", None, None, None),
        ("web", "gif", None, None),
        ("custom", None, 800, None),
        ("square", None, 800, 800),
        ("original", "webp", None, None),
        ("custom", None, 8, 8000),
    ],
)
def test_impossible_presets_are_refused(
    preset: str, fmt: str | None, width: int | None, height: int | None
) -> None:
    with pytest.raises(InvalidInput):
        presets.resolve(preset, fmt=fmt, width=width, height=height, banner=BANNER)


def test_nothing_is_scaled_up() -> None:
    spec = presets.resolve("square", fmt=None, width=None, height=None, banner=BANNER)
    assert presets.output_size(600, 600, spec) == (600, 600)
    assert presets.output_size(3000, 3000, spec) == (1080, 1080)
    fit = presets.resolve("web", fmt=None, width=None, height=None, banner=BANNER)
    assert presets.output_size(4000, 3000, fit) == (1600, 1200)
