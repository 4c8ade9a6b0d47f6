"""Pure face code: box geometry, reconciling re-detections, suggestions, clustering, sealing."""

from __future__ import annotations

import os
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from dam import biometrics
from dam.geometry import Box, iou
from dam.runtime import build_runtime
from dam.settings import Settings, load_settings
from gdpr.recognition import clustering
from gdpr.recognition.matching import NewFace, suggest
from ingest.faces.geometry import clamp, padded, reconcile, relative, suppress
from ingest.faces.threads import opencv_threads


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Box(0, 0, 10, 10), Box(0, 0, 10, 10), 1.0),
        (Box(0, 0, 10, 10), Box(5, 0, 10, 10), 50 / 150),
        (Box(0, 0, 10, 10), Box(10, 0, 10, 10), 0.0),
        (Box(0, 0, 10, 10), Box(20, 20, 5, 5), 0.0),
        (Box(0, 0, 10, 10), Box(2, 2, 5, 5), 25 / 100),
    ],
)
def test_iou(a: Box, b: Box, expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)
    assert iou(b, a) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("box", "size", "expected"),
    [
        (Box(10, 20, 30, 40), (100, 200), Box(0.1, 0.1, 0.3, 0.2)),
        (Box(-10, -10, 30, 30), (100, 100), Box(0, 0, 0.2, 0.2)),  # clamped to the image
        (Box(90, 90, 30, 30), (100, 100), Box(0.9, 0.9, 0.1, 0.1)),
    ],
)
def test_relative_boxes_stay_inside_the_image(
    box: Box, size: tuple[int, int], expected: Box
) -> None:
    got = relative(box, *size)
    assert got.x == pytest.approx(expected.x) and got.y == pytest.approx(expected.y)
    assert got.w == pytest.approx(expected.w) and got.h == pytest.approx(expected.h)


def test_padded_crop_grows_the_face_and_stops_at_the_edges() -> None:
    assert padded(Box(40, 40, 20, 20), 100, 100, margin=0.5) == Box(30, 30, 40, 40)
    assert padded(Box(0, 0, 20, 20), 100, 100, margin=0.5) == Box(0, 0, 30, 30)
    assert clamp(Box(-5, 95, 10, 10), 100, 100) == Box(0, 95, 5, 5)


def test_suppress_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = [Box(0, 0, 10, 10), Box(1, 1, 10, 10), Box(50, 50, 10, 10)]
    assert suppress(boxes, [0.5, 0.9, 0.7], 0.3) == [1, 2]


def test_reconcile_keeps_identities_and_human_decisions() -> None:
    existing = [
        ("confirmed", Box(0.1, 0.1, 0.2, 0.2), True),
        ("unknown-gone", Box(0.6, 0.6, 0.2, 0.2), False),
        ("dismissed-gone", Box(0.6, 0.1, 0.1, 0.1), True),
    ]
    found = [Box(0.11, 0.1, 0.2, 0.2), Box(0.3, 0.7, 0.1, 0.1)]
    plan = reconcile(existing, found)
    assert plan.kept == {0: "confirmed"}
    assert plan.removed == ["unknown-gone"]  # a person's decision is never thrown away


def vec(*values: float) -> np.ndarray:
    out = np.zeros(128, dtype=np.float32)
    out[: len(values)] = values
    return out


def test_suggestions_take_the_nearest_person_once_per_asset() -> None:
    gallery = np.stack([vec(0), vec(0.05), vec(1.0), vec(3.0)])
    people = ["ann", "ann", "bob", "cas"]
    faces = [NewFace("f1", vec(0.1), None), NewFace("f2", vec(0.2), None)]
    chosen = suggest(faces, gallery, people, present=set())
    # Both faces look like Ann, but one person appears once in a photo: only the closer.
    assert set(chosen) == {"f1"}
    assert chosen["f1"].person_id == "ann"
    assert chosen["f1"].distance == pytest.approx(0.05)


def test_suggestions_respect_split_faces_and_people_already_confirmed() -> None:
    gallery = np.stack([vec(0), vec(0.3)])
    people = ["ann", "bob"]
    assert (
        suggest([NewFace("f", vec(0.0), "ann")], gallery, people, present=set())["f"].person_id
        == "bob"
    )
    assert suggest([NewFace("f", vec(0.0), None)], gallery, people, present={"ann", "bob"}) == {}
    assert suggest([NewFace("f", vec(2.0), None)], gallery, people, present=set()) == {}


def test_clusters_never_hold_two_faces_of_one_asset() -> None:
    vectors = np.stack([vec(0), vec(0.01), vec(0.02), vec(5), vec(5.01)])
    assets = ["a1", "a1", "a2", "a3", "a4"]
    labels = clustering.cluster(vectors, assets)
    assert labels[3] == labels[4] and labels[0] != labels[3]
    same_asset = [labels[0], labels[1]]
    assert same_asset[0] != same_asset[1]
    assert labels[2] in same_asset  # the third face joins one of them


def test_placement_joins_the_nearest_cluster_without_its_asset() -> None:
    pool = np.stack([vec(0), vec(0.1), vec(4)])
    placed = clustering.place(vec(0.05), pool, ["c1", "c2", "c3"], ["x", "y", "z"], asset_id="x")
    assert placed.cluster_id == "c2"  # c1 holds a face of the same asset
    alone = clustering.place(vec(9), pool, ["c1", "c2", "c3"], ["x", "y", "z"], asset_id="q")
    assert alone.cluster_id is None


def test_exact_neighbour_pairs_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.05, (300, 128)).astype(np.float32)
    i, j, d = clustering.neighbour_pairs(x, 0.8)
    brute = {
        (a, b) for a in range(300) for b in range(a + 1, 300) if np.linalg.norm(x[a] - x[b]) < 0.8
    }
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == brute
    assert np.allclose(d, np.linalg.norm(x[i] - x[j], axis=1), atol=1e-4)


def test_purity_and_completeness() -> None:
    assert clustering.purity_completeness([1, 1, 2, 2], ["a", "a", "b", "b"]) == (1.0, 1.0, 1)
    purity, completeness, split = clustering.purity_completeness([1, 1, 1, 2], list("aabb"))
    assert purity == 0.75 and completeness == 0.75 and split == 2


def test_sealed_embeddings_open_only_for_their_face_and_key(tmp_path: object) -> None:
    key = biometrics.FaceKey(b"k" * 32)
    vector = vec(0.25, -1.5, 3.0)
    sealed = biometrics.seal(key, face_id="f1", model="m", vector=vector)
    assert vector.tobytes() not in sealed  # encrypted at rest
    assert np.array_equal(biometrics.unseal(key, face_id="f1", model="m", sealed=sealed), vector)
    with pytest.raises(biometrics.EmbeddingUnreadable):
        biometrics.unseal(key, face_id="f2", model="m", sealed=sealed)  # moved to another row
    with pytest.raises(biometrics.EmbeddingUnreadable):
        biometrics.unseal(biometrics.FaceKey(b"o" * 32), face_id="f1", model="m", sealed=sealed)


def test_production_refuses_to_seal_without_a_face_key(tmp_path: object) -> None:
    production = load_settings(environment="production", secret_key="x" * 40)
    with pytest.raises(biometrics.FaceKeyMissing, match="DAM_FACE_KEY"):
        biometrics.face_key(production)
    development = load_settings()
    assert len(biometrics.face_key(development).key) == 32
    configured = load_settings(face_key="a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=")
    assert biometrics.face_key(configured).key == b"keykeykeykeykeykeykeykeykeykeyke"


def test_partitioned_neighbour_pairs_find_nearly_all_close_pairs() -> None:
    # 4,000 people x 5 faces, spread like dlib's descriptors (~0.35 within, ~0.9 between).
    rng = np.random.default_rng(2)
    centres = rng.normal(0, 0.055, (4_000, 128)).astype(np.float32)
    x = (np.repeat(centres, 5, axis=0) + rng.normal(0, 0.022, (20_000, 128))).astype(np.float32)
    exact_i, exact_j, _ = clustering.neighbour_pairs(x, 0.5)
    i, j, d = clustering.neighbour_pairs(x, 0.5, exact_up_to=0)
    exact = set(zip(exact_i.tolist(), exact_j.tolist(), strict=True))
    found = set(zip(i.tolist(), j.tolist(), strict=True))
    assert len(found) == len(i)  # each pair once
    assert found <= exact  # only true pairs, i < j
    assert len(found) >= 0.95 * len(exact)
    assert np.allclose(d, np.linalg.norm(x[i] - x[j], axis=1), atol=1e-4)


@pytest.mark.parametrize(
    ("cores", "workers", "expected"),
    [(2, 2, 1), (8, 2, 4), (2, 1, 2), (4, 3, 1), (1, 4, 1), (2, 0, 2)],
)
def test_opencv_gets_each_workers_share_of_the_cores(
    cores: int, workers: int, expected: int
) -> None:
    assert opencv_threads(cores, workers) == expected


def test_job_consumers_give_opencv_each_workers_share(
    settings_factory: Callable[..., Settings],
) -> None:
    before = cv2.getNumThreads()
    rt = build_runtime(settings_factory(workers=2))
    try:
        rt.recover()  # what starting the consumers does first
        assert cv2.getNumThreads() == opencv_threads(len(os.sched_getaffinity(0)), 2)
    finally:
        cv2.setNumThreads(before)
        rt.close()
