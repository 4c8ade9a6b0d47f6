"""A video face track keeps one crop, its best sighting's, and only that one is ever
encoded as a JPEG (when the track ends); it is stored the way a photo's faces are.

The frames are scikit-image's astronaut (tests/faces_corpus.py), sharp or blurred, and go
through the real detector; the tracks are stored in a real database.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlmodel import select

from dam.models import Asset, AssetKind, AssetStatus, Face
from dam.runtime import Runtime
from ingest.faces.stage import crop_jpeg
from ingest.faces.store import match_by_span, store_faces
from ingest.faces.tracking import Sighting
from ingest.video.faces import CroppingTracker, FaceCrop, FrameSearch, found_faces
from ingest.video.frames import Frame
from tests import faces_corpus

pytestmark = pytest.mark.one_database


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    try:
        path = faces_corpus.astronaut()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def blurred(rgb: np.ndarray, kernel: int) -> np.ndarray:
    return np.ascontiguousarray(cv2.GaussianBlur(rgb, (kernel, kernel), 0))


def crops(sightings: list[Sighting]) -> list[FaceCrop]:
    pictures = [s.picture for s in sightings]
    assert all(isinstance(p, FaceCrop) for p in pictures)
    return pictures


def follow(astronaut: np.ndarray) -> tuple[CroppingTracker, list[Sighting]]:
    """One track of three sightings: blurred, sharp (the best), a little blurred."""
    search = FrameSearch(min_face=12.0, recognise=False)
    tracker = CroppingTracker(interval_s=1.0)
    seen: list[Sighting] = []
    frames = [(0.0, blurred(astronaut, 5)), (1.0, astronaut), (2.0, blurred(astronaut, 3))]
    for time_s, pixels in frames:
        found = search.sightings(Frame(time_s, pixels))
        assert len(found) == 1
        tracker.add(time_s, found)
        seen += found
    return tracker, seen


def test_only_the_best_sighting_of_a_track_is_encoded(astronaut: np.ndarray) -> None:
    tracker, seen = follow(astronaut)
    assert [c.encoded for c in crops(seen)] == [False, False, False]  # the track goes on
    tracker.add(10.0, [])  # nobody for longer than a track waits: it has ended
    assert [c.encoded for c in crops(seen)] == [False, True, False]
    (track,) = tracker.finish()
    assert track.best is seen[1] and track.frames == 3
    (face,) = found_faces([track], size=(astronaut.shape[1], astronaut.shape[0]))
    assert [c.encoded for c in crops(seen)] == [False, True, False]
    # The crop is the one a photo of that frame gets: one encoder for both.
    assert face.crop == crop_jpeg(Image.fromarray(astronaut), seen[1].box)
    assert face.crop[:2] == b"\xff\xd8"
    assert face.span is not None and (face.span.start_s, face.span.end_s) == (0.0, 2.0)


def test_a_track_still_on_screen_at_the_end_is_encoded_when_stored(
    astronaut: np.ndarray,
) -> None:
    tracker, seen = follow(astronaut)
    tracks = tracker.finish()
    assert [c.encoded for c in crops(seen)] == [False, False, False]
    found_faces(tracks, size=(astronaut.shape[1], astronaut.shape[0]))
    assert [c.encoded for c in crops(seen)] == [False, True, False]


def test_a_track_is_stored_with_one_crop_file_and_keeps_its_id(
    rt: Runtime, astronaut: np.ndarray
) -> None:
    tracker, seen = follow(astronaut)
    found = found_faces(tracker.finish(), size=(astronaut.shape[1], astronaut.shape[0]))
    with rt.session() as session:
        asset = Asset(
            kind=AssetKind.video, status=AssetStatus.ready, filename="a.mp4",
            mime="video/mp4", size=1, sha256="a" * 64,
        )  # fmt: skip
        session.add(asset)
        session.commit()
        asset_id = asset.id
    ids = []
    for _run in range(2):  # a re-run updates the same face
        with rt.session() as session:
            ids.append(
                store_faces(
                    session,
                    blobs=rt.blobs,
                    asset_id=asset_id,
                    found=found,
                    key=None,
                    match=match_by_span,
                )
            )
            session.commit()
    assert ids[0] == ids[1] and len(ids[0]) == 1
    with rt.session() as session:
        (face,) = session.exec(select(Face).where(Face.asset_id == asset_id))
    assert (face.id, face.time_s, face.time_end_s, face.frames) == (ids[0][0], 0.0, 2.0, 3)
    assert face.crop_path is not None
    files = list((rt.blobs.derived_dir(asset_id) / "faces").iterdir())
    assert files == [rt.blobs.root / face.crop_path]
    assert files[0].read_bytes() == crops(seen)[1].jpeg()
