"""The pure cores of faces in videos: which frames are searched (sampling) and how faces
become tracks (tracking), with real dlib embeddings of dlib's johns photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dam.geometry import Box
from ingest.faces.descriptor import describer
from ingest.faces.detect import detect_faces
from ingest.faces.tracking import (
    REJOIN_S,
    FoundTrack,
    Sighting,
    StoredTrack,
    Track,
    Tracker,
    quality,
    reconcile_tracks,
    time_overlap,
    track_all,
)
from ingest.video.sampling import (
    MAX_CUTS,
    MAX_GRID_FRAMES,
    FrameSampler,
    SamplingPlan,
    colour_histogram,
    histogram_distance,
    plan_sampling,
)
from tests import faces_corpus


@pytest.fixture(scope="module")
def vectors() -> dict[str, list[np.ndarray]]:
    """person -> embeddings of their first four johns photos (real dlib descriptors)."""
    try:
        people = faces_corpus.johns()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    out: dict[str, list[np.ndarray]] = {}
    for name in ("John_Salley", "John_Simm"):
        out[name] = []
        for path in people[name][:4]:
            rgb = np.asarray(Image.open(path).convert("RGB"))
            (found,) = detect_faces(rgb)
            out[name] += describer().describe(rgb, [found.box])
    return out


def seen(
    time_s: float,
    x: float,
    *,
    vector: np.ndarray | None = None,
    who: str = "",
    side: float = 100,
    score: float = 0.99,
    sharpness: float = 200.0,
) -> Sighting:
    return Sighting(time_s, Box(x, 100, side, side), score, sharpness, vector, picture=who)


def people_in(track: Track) -> set[str]:
    """Whose faces a track holds (ended tracks keep the picture of their best only)."""
    pictures = {s.picture for s in track.described} | {track.best.picture, track.last.picture}
    return pictures - {None}


# --- quality -------------------------------------------------------------------------

QUALITY_ORDER = [
    # (better, worse): each term counts
    (seen(0, 0, score=0.99), seen(0, 0, score=0.8)),
    (seen(0, 0, side=112), seen(0, 0, side=40)),
    (seen(0, 0, sharpness=400), seen(0, 0, sharpness=20)),
]


@pytest.mark.parametrize(("better", "worse"), QUALITY_ORDER)
def test_quality_prefers_confident_large_sharp_faces(better: Sighting, worse: Sighting) -> None:
    assert quality(better) > quality(worse)


def test_quality_is_zero_for_a_flat_picture_and_saturates_at_full_size() -> None:
    assert quality(seen(0, 0, sharpness=0)) == 0.0
    assert quality(seen(0, 0, side=300)) == quality(seen(0, 0, side=112))
    assert 0 < quality(seen(0, 0)) <= 1


# --- tracking without embeddings (recognition off) ----------------------------------


def test_without_embeddings_a_slowly_moving_face_is_one_track() -> None:
    (track,) = track_all([(t, [seen(t, 100 + 10 * t)]) for t in range(6)], interval_s=1.0)
    assert (track.start_s, track.end_s, track.frames) == (0, 5, 6)


def test_without_embeddings_a_jump_across_the_frame_starts_a_new_track() -> None:
    frames = [(0.0, [seen(0, 100)]), (1.0, [seen(1, 110)]), (2.0, [seen(2, 500)])]
    first, second = track_all(frames, interval_s=1.0)
    assert (first.start_s, first.end_s, second.start_s, second.end_s) == (0, 1, 2, 2)


def test_without_embeddings_one_missed_frame_is_bridged_two_are_not() -> None:
    bridged = track_all([(0.0, [seen(0, 100)]), (1.0, []), (2.0, [seen(2, 100)])], interval_s=1)
    assert len(bridged) == 1 and bridged[0].frames == 2
    frames = [(0.0, [seen(0, 100)]), (1.0, []), (2.0, []), (3.0, [seen(3, 100)])]
    assert len(track_all(frames, interval_s=1.0)) == 2


# --- tracking with real embeddings ---------------------------------------------------


def test_two_people_crossing_stay_two_tracks(vectors: dict[str, list[np.ndarray]]) -> None:
    a, b = vectors["John_Salley"], vectors["John_Simm"]
    frames = []
    for t in range(7):
        # A walks right, B walks left; at t=3 they stand on the same spot.
        frames.append(
            (
                float(t),
                [
                    seen(t, 100 + 50 * t, vector=a[t % 4], who="A"),
                    seen(t, 400 - 50 * t, vector=b[t % 4], who="B"),
                ],
            )
        )
    tracks = track_all(frames, interval_s=1.0)
    assert len(tracks) == 2
    assert sorted(people_in(t).pop() for t in tracks) == ["A", "B"]
    assert all(len(people_in(t)) == 1 and t.frames == 7 for t in tracks)
    # Every embedding a track keeps is its own person's.
    for track in tracks:
        own = a if people_in(track) == {"A"} else b
        assert all(any(s.embedding is v for v in own) for s in track.described)


def test_a_different_person_on_the_same_spot_is_a_new_track(
    vectors: dict[str, list[np.ndarray]],
) -> None:
    a, b = vectors["John_Salley"], vectors["John_Simm"]
    frames = [(float(t), [seen(t, 200, vector=a[t], who="A")]) for t in range(3)]
    frames += [(float(t), [seen(t, 200, vector=b[t - 3], who="B")]) for t in range(3, 6)]
    first, second = track_all(frames, interval_s=1.0)
    assert (people_in(first), first.start_s, first.end_s) == ({"A"}, 0, 2)
    assert (people_in(second), second.start_s, second.end_s) == ({"B"}, 3, 5)


def test_someone_back_within_seconds_continues_their_track_elsewhere(
    vectors: dict[str, list[np.ndarray]],
) -> None:
    a = vectors["John_Salley"]
    back_soon = [(0.0, [seen(0, 100, vector=a[0])]), (1.0, [seen(1, 100, vector=a[1])])]
    back_soon += [(1.0 + REJOIN_S, [seen(1 + REJOIN_S, 600, vector=a[2])])]
    (track,) = track_all(back_soon, interval_s=1.0)
    assert (track.start_s, track.end_s, track.frames) == (0, 1 + REJOIN_S, 3)
    back_late = [*back_soon[:2], (2.0 + REJOIN_S, [seen(2 + REJOIN_S, 600, vector=a[2])])]
    assert len(track_all(back_late, interval_s=1.0)) == 2


def test_a_track_keeps_its_best_picture_and_one_embedding_of_its_best_few(
    vectors: dict[str, list[np.ndarray]],
) -> None:
    a = vectors["John_Salley"]
    frames = [
        (0.0, [seen(0, 100, vector=a[0], sharpness=10, who="blurred")]),
        (1.0, [seen(1, 105, vector=a[1], sharpness=500, who="sharp")]),
        (2.0, [seen(2, 110, vector=a[2], sharpness=300, side=60, who="small")]),
        (3.0, [seen(3, 115, vector=a[3], sharpness=200, who="fine")]),
    ]
    (track,) = track_all(frames, interval_s=1.0)
    assert track.best.picture == "sharp"
    assert [s.time_s for s in track.described] == [1, 3, 2]  # sharp, fine, small
    vector = track.embedding()
    assert vector is not None and vector.shape == (128,) and vector.dtype == np.float32
    mean = np.mean([a[1], a[3], a[2]], axis=0)
    cosine = float(vector @ mean) / float(np.linalg.norm(vector) * np.linalg.norm(mean))
    assert cosine == pytest.approx(1.0, abs=1e-5)
    typical = np.mean([np.linalg.norm(v) for v in (a[1], a[2], a[3])])
    assert float(np.linalg.norm(vector)) == pytest.approx(typical, rel=1e-4)
    # The mean is closer to each of the person's photos than they are to another person.
    other = vectors["John_Simm"][0]
    assert max(float(np.linalg.norm(vector - v)) for v in a) < float(np.linalg.norm(vector - other))


def test_a_track_of_one_sighting_has_that_embedding(vectors: dict[str, list[np.ndarray]]) -> None:
    v = vectors["John_Simm"][0]
    (track,) = track_all([(0.0, [seen(0, 1, vector=v)])], interval_s=1.0)
    vector = track.embedding()
    assert vector is not None and np.allclose(vector, v, atol=1e-6)
    (blind,) = track_all([(0.0, [seen(0, 1)])], interval_s=1.0)
    assert blind.embedding() is None


def test_frames_must_come_in_time_order() -> None:
    tracker = Tracker(interval_s=1.0)
    tracker.add(1.0, [])
    with pytest.raises(ValueError, match="time order"):
        tracker.add(1.0, [])
    with pytest.raises(ValueError, match="positive"):
        Tracker(interval_s=0)


# --- re-runs keep decided tracks ----------------------------------------------------

HERE, THERE = Box(0.1, 0.1, 0.2, 0.2), Box(0.6, 0.1, 0.2, 0.2)


def test_time_overlap() -> None:
    assert time_overlap(0, 3, 0, 3) == 1.0
    assert time_overlap(0, 1, 5, 6) == 0.0
    assert time_overlap(2, 2, 2, 2) == 1.0  # a single sample still overlaps itself
    assert 0 < time_overlap(0, 2, 1, 3) < 1


def test_reconcile_tracks_keeps_ids_by_time_and_place() -> None:
    existing = [
        StoredTrack("left", 0.0, 4.0, HERE, decided=True),
        StoredTrack("right", 0.0, 4.0, THERE, decided=False),
        StoredTrack("later", 10.0, 12.0, HERE, decided=False),
        StoredTrack("named", 20.0, 22.0, HERE, decided=True),
    ]
    found = [FoundTrack(0.0, 4.0, THERE), FoundTrack(0.0, 4.0, HERE), FoundTrack(30, 31, HERE)]
    plan = reconcile_tracks(existing, found)
    assert plan.kept == {0: "right", 1: "left"}
    assert plan.removed == ["later"]  # "named" was decided by a person: it stays


# --- sampling -----------------------------------------------------------------------


def test_plan_sampling_is_one_a_second_until_the_cap() -> None:
    assert plan_sampling(60) == SamplingPlan(0.25, 1.0, MAX_GRID_FRAMES + MAX_CUTS + 1)
    long = plan_sampling(MAX_GRID_FRAMES * 4.0)
    assert long.every_s == 4.0 and long.scan_every_s == 0.25


def solid(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.full((90, 160, 3), rgb, dtype=np.uint8)


def test_histogram_distance_separates_shots_not_small_changes() -> None:
    dark, light = solid((30, 40, 60)), solid((210, 200, 180))
    nudged = dark.copy()
    nudged[:20, :20] = (200, 200, 200)
    assert histogram_distance(colour_histogram(dark), colour_histogram(dark)) == 0.0
    assert histogram_distance(colour_histogram(dark), colour_histogram(light)) == 1.0
    assert histogram_distance(colour_histogram(dark), colour_histogram(nudged)) < 0.1


def test_sampler_keeps_one_frame_a_second_and_the_first_of_each_shot() -> None:
    sampler = FrameSampler(plan_sampling(10))
    shots = {t / 4: solid((30, 40, 60)) if t < 10 else solid((210, 200, 180)) for t in range(24)}
    kept = [t for t, pixels in shots.items() if sampler.wants(t, pixels)]
    # 0, 1, 2, then the cut at 2.5 (the grid starts again from there), 3.5, 4.5, 5.5
    assert kept == [0.0, 1.0, 2.0, 2.5, 3.5, 4.5, 5.5]


def test_sampler_stops_counting_cuts_after_the_cap() -> None:
    sampler = FrameSampler(SamplingPlan(scan_every_s=0.25, every_s=1000.0, max_frames=10**6))
    colours = [solid((0, 0, 0)), solid((255, 255, 255))]
    kept = sum(sampler.wants(n / 4, colours[n % 2]) for n in range(2 * MAX_CUTS + 10))
    assert kept == 1 + MAX_CUTS  # the first frame, then cuts up to the cap


def test_sampler_never_exceeds_its_frame_budget() -> None:
    sampler = FrameSampler(SamplingPlan(scan_every_s=1.0, every_s=1.0, max_frames=5))
    assert sum(sampler.wants(float(n), solid((9, 9, 9))) for n in range(50)) == 5


def test_ended_tracks_keep_only_their_best_picture(vectors: dict[str, list[np.ndarray]]) -> None:
    a = vectors["John_Salley"]
    frames = [
        (float(t), [seen(t, 100, vector=a[t], sharpness=100 + 100 * (t == 1), who=f"p{t}")])
        for t in range(4)
    ]
    (track,) = track_all(frames, interval_s=1.0)
    assert track.best.picture == "p1"
    assert track.last.picture is None and track.last.time_s == 3
    assert [s.picture for s in track.described] == ["p1", None, None]
    assert track.embedding() is not None  # the embeddings stay
