"""The numpy ResNet gives dlib's own face descriptors, read from the real model file."""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import pytest
from PIL import Image

from dam.errors import ProcessingError
from ingest.faces import resnet, weights
from ingest.faces.descriptor import describer
from ingest.faces.detect import detect_faces
from ingest.faces.geometry import to_dlib_square
from tests import faces_corpus


@pytest.fixture(scope="module")
def group_photo() -> np.ndarray:
    try:
        examples = faces_corpus.dlib_examples()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    return np.asarray(Image.open(examples / "faces" / "bald_guys.jpg").convert("RGB"))


def test_descriptors_equal_dlibs_own_network(group_photo: np.ndarray) -> None:
    found = detect_faces(group_photo)
    assert len(found) >= 20  # a group photo: many faces in one pass
    ours = np.vstack(describer().describe(group_photo, [d.box for d in found]))

    landmarks = dlib.shape_predictor(str(weights.LANDMARKS_5.path()))
    network = dlib.face_recognition_model_v1(str(weights.RESNET_DESCRIPTOR.path()))
    shapes = dlib.full_object_detections()
    for detection in found:
        square = to_dlib_square(detection.box)
        rect = dlib.rectangle(
            round(square.x), round(square.y), round(square.right), round(square.bottom)
        )
        shapes.append(landmarks(group_photo, rect))
    theirs = np.array(network.compute_face_descriptor(group_photo, shapes, num_jitters=0))

    assert ours.shape == theirs.shape == (len(found), 128)
    assert ours.dtype == np.float32
    assert np.abs(ours - theirs).max() < 1e-4
    # Different people stay apart: the check is not passing on constant vectors.
    assert np.linalg.norm(ours[0] - ours[1]) > 0.3


def test_the_network_follows_dlibs_architecture() -> None:
    network = resnet.load(weights.RESNET_DESCRIPTOR.path())
    assert network.stem.kernel.shape == (3 * 7 * 7, 32)
    assert [first.kernel.shape[1] for first, _second, _down in network.blocks] == [
        filters for filters, _down in resnet.BLOCKS
    ]
    assert network.projection.shape == (256, 128)
    np.testing.assert_allclose(network.mean, [122.782, 117.001, 104.298], atol=1e-3)


def test_another_dlib_model_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ProcessingError, match="not dlib's ResNet face descriptor"):
        resnet.load(weights.MMOD_DETECTOR.path())  # also a dlib network, another one
    truncated = tmp_path / "cut.dat"
    truncated.write_bytes(weights.RESNET_DESCRIPTOR.path().read_bytes()[:5_000_000])
    with pytest.raises(ProcessingError, match="not dlib's ResNet face descriptor"):
        resnet.load(truncated)
