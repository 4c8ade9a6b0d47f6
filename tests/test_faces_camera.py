"""Faces at camera resolution: 6000 x 4000 photos through the faces stage's own path.

Real annotated faces (dlib's group photos) are pasted at known places and sizes into
camera-like frames (tests/faces_corpus.py `camera_frames`). Each frame is stored as a
camera JPEG, its `large` rendition made as the renditions stage makes it, and the faces
found as the stage finds them: over the whole large rendition from DAM_FACE_WHOLE_FRAME_PX
up, smaller ones where skin colours are, in the original decoded at half scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dam.settings import Settings
from ingest.faces.detect import detect_faces
from ingest.faces.regions import small_face_regions
from tests import faces_corpus

FRAMES = 8  # 128 faces, 88 of them 40 px or more


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bool] | int]:
    try:
        frames = faces_corpus.camera_frames(FRAMES)
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    defaults = Settings.model_fields
    edge = defaults["face_max_edge_px"].default
    smallest = defaults["face_min_size_px"].default
    whole = defaults["face_whole_frame_px"].default
    folder = tmp_path_factory.mktemp("camera")
    result: dict[str, list[bool] | int] = {"small": [], "large": [], "strays": 0}
    for index, (frame, truth) in enumerate(frames):
        path = folder / f"frame-{index}.jpg"
        frame.save(path, "JPEG", quality=92)
        boxes, _factor = faces_corpus.faces_as_the_stage_finds_them(
            path, edge=edge, smallest=smallest, whole=whole
        )
        hits = faces_corpus.matched(boxes, truth)
        for box, hit in zip(truth, hits, strict=True):
            result["small" if box.w < 40 else "large"].append(hit)  # type: ignore[union-attr]
        result["strays"] += faces_corpus.strays(boxes, truth)  # type: ignore[operator]
        result.setdefault("found", 0)
        result["found"] += len(boxes)  # type: ignore[operator]
    return result


def test_faces_of_40_px_and_more_are_found_at_camera_resolution(outcome: dict) -> None:
    large = outcome["large"]
    assert len(large) == 88
    assert sum(large) / len(large) >= 0.95, (sum(large), len(large))


def test_faces_of_20_to_40_px_are_mostly_found(outcome: dict) -> None:
    # Measured 0.78 (31 of 40): found in the original at half scale, where they measure
    # 10-20 px. Before (the whole frame searched at 4000 px) 0.88; see docs/models.md.
    small = outcome["small"]
    assert len(small) == 40
    assert sum(small) / len(small) >= 0.7, (sum(small), len(small))


def test_few_false_faces_at_camera_resolution(outcome: dict) -> None:
    assert outcome["strays"] <= 0.05 * outcome["found"], outcome["strays"]


def test_small_faces_are_only_looked_for_where_skin_colours_are() -> None:
    rng = np.random.default_rng(3)
    sky = np.zeros((1000, 1500, 3), np.uint8)
    sky[...] = (90, 140, 220)
    sky += rng.integers(0, 6, sky.shape, dtype=np.uint8)
    assert small_face_regions(sky, largest_face=30) == []
    # One skin-coloured patch of a small face's size: one region around it, not the frame.
    sky[500:512, 700:710] = (205, 160, 135)
    (region,) = small_face_regions(sky, largest_face=30)
    left, top, right, bottom = region
    assert left <= 700 and top <= 500 and right >= 710 and bottom >= 512
    assert (right - left) * (bottom - top) < 0.05 * 1500 * 1000
    # Without colour there is nothing to go by: the whole frame.
    grey = np.repeat(sky.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    assert small_face_regions(grey, largest_face=30) == [(0, 0, 1500, 1000)]
    # A wall of skin colour is no small face.
    wall = np.full((1000, 1500, 3), (205, 160, 135), np.uint8)
    assert small_face_regions(wall, largest_face=30) == []


def test_no_faces_in_a_faceless_camera_photo(tmp_path: Path) -> None:
    frame = faces_corpus._camera_background(3000, 2000, seed=7)
    assert detect_faces(np.asarray(frame), min_face=8, whole_frame_from=34) == []
