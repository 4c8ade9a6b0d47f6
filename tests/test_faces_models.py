"""The real face models on real photos: detection quality, orientation, small faces, clusters.

The photos come from dlib's and scikit-image's packages (tests/faces_corpus.py). The
evaluation runs once per session: it needs no database.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dam.geometry import Box, iou
from dam.settings import Settings
from gdpr.recognition import clustering
from ingest.faces.descriptor import describer
from ingest.faces.detect import detect_faces
from ingest.faces.geometry import to_dlib_square
from tests import faces_corpus


@pytest.fixture(scope="session")
def examples() -> Path:
    try:
        return faces_corpus.dlib_examples()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))


def rgb(path: Path, scale: float = 1.0) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    if scale != 1.0:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(image)


def evaluate(examples: Path, *, scale: float = 1.0) -> tuple[int, int, int]:
    """(true positives, detections, annotated faces) over both annotated sets, IoU 0.5.

    dlib's annotations are tight squares over eyebrows, eyes, nose and mouth; detections
    are mapped onto that convention with `to_dlib_square` (fitted against dlib's HOG
    boxes on other photos), not judged with a looser threshold.
    """
    hits = detected = annotated = 0
    for xml in ("training.xml", "testing.xml"):
        truth = faces_corpus.annotated_boxes(examples / "faces" / xml)
        for name, boxes in truth.items():
            found = [
                to_dlib_square(d.box)
                for d in detect_faces(rgb(examples / "faces" / name, scale), min_face=12)
            ]
            expected = [Box(*b).scaled(scale) for b in boxes]
            unused = list(range(len(found)))
            for box in expected:
                best = max(unused, key=lambda i: iou(found[i], box), default=None)
                if best is not None and iou(found[best], box) >= 0.5:
                    unused.remove(best)
                    hits += 1
            detected += len(found)
            annotated += len(expected)
    return hits, detected, annotated


def test_detection_recall_and_precision_on_annotated_group_photos(examples: Path) -> None:
    hits, detected, annotated = evaluate(examples)
    assert annotated == 43
    assert hits / annotated >= 0.95, (hits, detected, annotated)
    assert hits / detected >= 0.95, (hits, detected, annotated)


def test_small_faces_in_group_photos_are_found(examples: Path) -> None:
    # Scaled so the smallest annotated faces are 17 px (their hair and chin make ~20 px).
    hits, detected, annotated = evaluate(examples, scale=0.45)
    assert hits / annotated >= 0.9, (hits, detected, annotated)
    assert hits / detected >= 0.9, (hits, detected, annotated)


def test_no_faces_on_dogs(examples: Path) -> None:
    assert detect_faces(rgb(examples / "faces" / "dogs.jpg")) == []


def test_astronaut_has_one_face_where_her_face_is() -> None:
    try:
        path = faces_corpus.astronaut()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    found = detect_faces(rgb(path))
    assert len(found) == 1
    # Her face: roughly x 180-265, y 60-175 of the 512 px image.
    assert iou(found[0].box, Box(180, 60, 85, 115)) >= 0.6


@pytest.fixture(scope="session")
def johns_embeddings(examples: Path) -> tuple[np.ndarray, list[str]]:
    vectors, people = [], []
    for person, photos in faces_corpus.johns().items():
        for photo in photos:
            pixels = rgb(photo)
            found = detect_faces(pixels)
            if not found:
                continue
            # LFW-style photos: the person is the face nearest the centre.
            centre = max(
                found, key=lambda d: -abs(d.box.center[0] - 75) - abs(d.box.center[1] - 75)
            )
            vectors.append(describer().describe(pixels, [centre.box])[0])
            people.append(person)
    return np.vstack(vectors), people


def test_johns_are_detected_and_described(johns_embeddings: tuple[np.ndarray, list[str]]) -> None:
    vectors, people = johns_embeddings
    assert len(set(people)) == 5
    assert len(people) >= 53  # 55 photos; a face cut by the frame may be missed
    assert vectors.shape[1] == 128 and np.isfinite(vectors).all()


def test_johns_cluster_by_person(johns_embeddings: tuple[np.ndarray, list[str]]) -> None:
    vectors, people = johns_embeddings
    labels = clustering.cluster(vectors, [str(i) for i in range(len(people))])
    purity, completeness, most_split = clustering.purity_completeness(labels.tolist(), people)
    assert purity >= 0.95
    assert completeness >= 0.9
    assert most_split <= 2


def test_same_person_is_nearer_than_different_people(
    johns_embeddings: tuple[np.ndarray, list[str]],
) -> None:
    vectors, people = johns_embeddings
    owner = np.array(people)
    distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    same = (owner[:, None] == owner[None]) & ~np.eye(len(owner), dtype=bool)
    assert np.median(distances[same]) < 0.45 < np.median(distances[owner[:, None] != owner[None]])


@pytest.mark.parametrize("scale", [1.0, 0.45])
def test_the_pipelines_search_finds_the_annotated_faces(examples: Path, scale: float) -> None:
    # As the faces stage searches (photos this small are their own working picture): the
    # whole frame from DAM_FACE_WHOLE_FRAME_PX, smaller faces only where skin colours are.
    fields = Settings.model_fields
    whole = fields["face_whole_frame_px"].default * scale
    smallest = fields["face_min_size_px"].default * scale
    hits = detected = annotated = 0
    for xml in ("training.xml", "testing.xml"):
        for name, boxes in faces_corpus.annotated_boxes(examples / "faces" / xml).items():
            pixels = rgb(examples / "faces" / name, scale)
            found = [
                to_dlib_square(d.box)
                for d in detect_faces(pixels, min_face=smallest, whole_frame_from=whole)
            ]
            hits += sum(faces_corpus.matched(found, [Box(*b).scaled(scale) for b in boxes]))
            detected += len(found)
            annotated += len(boxes)
    assert hits / annotated >= 0.95, (hits, detected, annotated)
    assert hits / detected >= 0.95, (hits, detected, annotated)
