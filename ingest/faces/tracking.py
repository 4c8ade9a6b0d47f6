"""Following faces through a video's sampled frames: one person in one clip is one track.

Pure: sightings (a face box in one frame, with its score, sharpness and embedding) in,
tracks out. A sighting joins a track when

- its embedding is close to the track's (the same person), wherever it is in the frame,
  as long as the track was seen at most `rejoin_s` ago (someone leaves and comes back);
- or, close enough to be the same person and overlapping the track's last box, when it
  comes from the next sample (or the one after, if the detector missed a frame);
- or, without embeddings (recognition switched off), by overlap with the last box alone.

Two people who cross each other overlap in the frame, but their embeddings differ, so
they stay two tracks. Each frame gives a track at most one sighting. A track keeps where
it was seen in every sampled frame (`path`), so that redaction can follow someone who
moves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dam.geometry import Box, iou
from ingest.faces.geometry import Reconciled

# Embedding distances on dlib's 128-d descriptor: gdpr/recognition/matching.py uses 0.5 for "the
# same person" across photos. Within one clip lighting and pose change less, so the same
# threshold holds for finding someone again; while a face stays where it was, a frame
# with motion blur or a turned head is allowed to be a little further off.
SAME_PERSON = 0.5
SAME_PLACE_PERSON = 0.6
SAME_PLACE_IOU = 0.3
# A face seen again after at most this long, looking the same, continues its track.
REJOIN_S = 3.0
# Sightings that count towards a track's embedding: the best few by quality.
EMBEDDING_SIGHTINGS = 3
# The quality terms: a face this many pixels across (or larger) counts fully; sharpness
# (variance of the Laplacian) at SHARPNESS_HALF counts half.
FULL_SIDE_PX = 112.0
SHARPNESS_HALF = 100.0


@dataclass(frozen=True, eq=False)
class Sighting:
    """One face in one sampled frame."""

    time_s: float
    box: Box  # pixels of the frame
    score: float  # the detector's confidence, 0..1
    sharpness: float  # variance of the Laplacian over the face
    embedding: np.ndarray | None = None
    picture: Any = None  # what the caller needs to make the crop of this sighting


def quality(sighting: Sighting) -> float:
    """How good a picture of the face a sighting is: score x size x sharpness, 0..1."""
    side = math.sqrt(sighting.box.area)
    size = min(1.0, side / FULL_SIDE_PX)
    sharp = max(0.0, sighting.sharpness)
    return max(0.0, sighting.score) * size * sharp / (sharp + SHARPNESS_HALF)


@dataclass
class Track:
    """One person's appearance in a clip: when, how often, and their best picture."""

    start_s: float
    end_s: float
    frames: int
    last: Sighting
    best: Sighting
    # The best sightings that carry an embedding, best first (at most EMBEDDING_SIGHTINGS).
    described: list[Sighting] = field(default_factory=list)
    # (time, box in pixels) of every sighting, in time order: one per sampled frame seen.
    path: list[tuple[float, Box]] = field(default_factory=list)

    @classmethod
    def begin(cls, sighting: Sighting) -> Track:
        track = cls(sighting.time_s, sighting.time_s, 1, sighting, sighting)
        track.path.append((sighting.time_s, sighting.box))
        track._remember(sighting)
        return track

    def extend(self, sighting: Sighting) -> None:
        self.end_s, self.last = sighting.time_s, sighting
        self.frames += 1
        self.path.append((sighting.time_s, sighting.box))
        if quality(sighting) > quality(self.best):
            self.best = sighting
        self._remember(sighting)

    def settle(self) -> None:
        """The track has ended: let go of every picture but the best one (memory stays at
        one crop per track however long the video)."""
        keep = self.best
        self.last = keep if self.last is keep else replace(self.last, picture=None)
        self.described = [s if s is keep else replace(s, picture=None) for s in self.described]

    def _remember(self, sighting: Sighting) -> None:
        if sighting.embedding is None:
            return
        self.described.append(sighting)
        self.described.sort(key=lambda s: -quality(s))
        del self.described[EMBEDDING_SIGHTINGS:]

    def embedding(self) -> np.ndarray | None:
        """The track's one embedding: the mean of its best few, at their typical length."""
        if not self.described:
            return None
        vectors = np.vstack([_vector(s) for s in self.described]).astype(np.float32)
        mean = vectors.mean(axis=0)
        length = float(np.linalg.norm(mean))
        if length == 0.0:
            return vectors[0]
        # dlib's distances assume descriptors of dlib's own length (about 1.4), so the
        # mean direction is scaled back to the members' average length.
        scale = float(np.linalg.norm(vectors, axis=1).mean()) / length
        return (mean * scale).astype(np.float32)

    def distance(self, vector: np.ndarray) -> float:
        """The closest distance between `vector` and the sightings that describe the track."""
        return min(float(np.linalg.norm(_vector(s) - vector)) for s in self.described)


def _vector(sighting: Sighting) -> np.ndarray:
    assert sighting.embedding is not None  # only such sightings describe a track
    return sighting.embedding


class Tracker:
    """Feed it the sightings of each sampled frame in time order; `finish` gives the tracks.

    `interval_s` is the usual time between samples: a track without embeddings only
    continues in the next sample or the one after it.
    """

    def __init__(self, *, interval_s: float, rejoin_s: float = REJOIN_S) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.adjacent_s = 2.5 * interval_s
        self.rejoin_s = max(rejoin_s, self.adjacent_s)
        self.active: list[Track] = []
        self.ended: list[Track] = []
        self.time_s = -math.inf

    def add(self, time_s: float, sightings: Iterable[Sighting]) -> None:
        """The faces found in the frame at `time_s` (later than any frame before)."""
        if time_s <= self.time_s:
            raise ValueError("frames must come in time order")
        self.time_s = time_s
        still: list[Track] = []
        for track in self.active:
            if time_s - track.end_s <= self.rejoin_s:
                still.append(track)
            else:
                track.settle()
                self.ended.append(track)
        self.active = still
        found = list(sightings)
        pairs = sorted(
            (cost, t, s)
            for t, track in enumerate(self.active)
            for s, sighting in enumerate(found)
            if (cost := self._cost(track, sighting)) is not None
        )
        taken_tracks: set[int] = set()
        taken: set[int] = set()
        for _cost, t, s in pairs:
            if t in taken_tracks or s in taken:
                continue
            self.active[t].extend(found[s])
            taken_tracks.add(t)
            taken.add(s)
        self.active += [Track.begin(sighting) for s, sighting in enumerate(found) if s not in taken]

    def finish(self) -> list[Track]:
        """Every track, in order of appearance."""
        for track in self.active:
            track.settle()
        tracks = self.ended + self.active
        self.ended, self.active = [], []
        return sorted(tracks, key=lambda t: (t.start_s, t.best.box.x, t.best.box.y))

    def _cost(self, track: Track, sighting: Sighting) -> float | None:
        """How well `sighting` continues `track` (lower is better), or None: it does not."""
        gap = sighting.time_s - track.end_s
        overlap = iou(track.last.box, sighting.box)
        adjacent = gap <= self.adjacent_s and overlap >= SAME_PLACE_IOU
        if sighting.embedding is None or not track.described:
            return 1.0 - overlap if adjacent else None
        distance = track.distance(sighting.embedding)
        if distance <= SAME_PERSON or (adjacent and distance <= SAME_PLACE_PERSON):
            return distance - 0.1 * overlap
        return None


def track_all(
    frames: Iterable[tuple[float, Sequence[Sighting]]], *, interval_s: float
) -> list[Track]:
    """Tracks from (time, sightings) per sampled frame, in time order."""
    tracker = Tracker(interval_s=interval_s)
    for time_s, sightings in frames:
        tracker.add(time_s, sightings)
    return tracker.finish()


@dataclass(frozen=True)
class StoredTrack:
    """A face track already stored for the asset (for re-runs)."""

    face_id: str
    start_s: float
    end_s: float
    box: Box  # relative
    decided: bool  # a person confirmed or dismissed it


@dataclass(frozen=True)
class FoundTrack:
    start_s: float
    end_s: float
    box: Box  # relative


# Stretch zero-length spans (a face in one sample) so that overlap in time can be measured.
_SPAN_PAD_S = 0.5
_MIN_TIME_OVERLAP = 0.5


def time_overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """Intersection over union of two time spans, each padded by half a second."""
    a0, a1 = a_start - _SPAN_PAD_S, a_end + _SPAN_PAD_S
    b0, b1 = b_start - _SPAN_PAD_S, b_end + _SPAN_PAD_S
    inter = min(a1, b1) - max(a0, b0)
    if inter <= 0:
        return 0.0
    return inter / (max(a1, b1) - min(a0, b0))


def reconcile_tracks(existing: Sequence[StoredTrack], found: Sequence[FoundTrack]) -> Reconciled:
    """Match re-detected tracks to stored ones so that identities survive a rebuild.

    A new track takes over the stored one it overlaps most in time (at least half), the
    box overlap breaking ties between people on screen together; tracks a person
    confirmed or dismissed are never removed.
    """
    pairs = sorted(
        (
            (overlap + iou(new.box, old.box), i, j)
            for i, new in enumerate(found)
            for j, old in enumerate(existing)
            if (overlap := time_overlap(new.start_s, new.end_s, old.start_s, old.end_s))
            >= _MIN_TIME_OVERLAP
        ),
        reverse=True,
    )
    kept: dict[int, str] = {}
    taken: set[int] = set()
    for _score, i, j in pairs:
        if i in kept or j in taken:
            continue
        kept[i] = existing[j].face_id
        taken.add(j)
    removed = [old.face_id for j, old in enumerate(existing) if j not in taken and not old.decided]
    return Reconciled(kept=kept, removed=removed)
