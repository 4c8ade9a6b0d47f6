"""Suggesting who a new face is: the nearest confirmed face of a known person. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Below dlib's own 0.6: a suggestion is shown to people as "probably X", so it should
# rarely be wrong. On the johns photos no two people come closer than 0.66.
MATCH_DISTANCE = 0.5


@dataclass(frozen=True)
class NewFace:
    face_id: str
    vector: np.ndarray
    not_person_id: str | None  # a person said this face is not them


@dataclass(frozen=True)
class Suggestion:
    person_id: str
    distance: float


def suggest(
    faces: Sequence[NewFace],
    gallery: np.ndarray,
    gallery_people: Sequence[str],
    *,
    present: set[str],
    threshold: float = MATCH_DISTANCE,
) -> dict[str, Suggestion]:
    """Suggestions for the new faces of one asset.

    `gallery` holds the embeddings of confirmed faces and `gallery_people` whose they
    are; `present` the people already confirmed on this asset. One person is suggested
    for at most one face of the asset (a person appears once in a photo): the closest
    pairs are taken first.
    """
    if not faces or len(gallery) == 0:
        return {}
    people = sorted(set(gallery_people))
    column = {p: i for i, p in enumerate(people)}
    owner = np.array([column[p] for p in gallery_people])
    candidates = []
    for face in faces:
        distances = np.linalg.norm(gallery - face.vector[None, :], axis=1)
        nearest = np.full(len(people), np.inf)
        np.minimum.at(nearest, owner, distances)
        for index in np.nonzero(nearest < threshold)[0]:
            person = people[index]
            if person != face.not_person_id and person not in present:
                candidates.append((float(nearest[index]), face.face_id, person))
    chosen: dict[str, Suggestion] = {}
    taken = set(present)
    for distance, face_id, person in sorted(candidates):
        if face_id in chosen or person in taken:
            continue
        chosen[face_id] = Suggestion(person, distance)
        taken.add(person)
    return chosen


@dataclass(frozen=True)
class Undecided:
    """Every undecided face of the library, as parallel arrays (one row per face)."""

    face_ids: Sequence[str]
    asset_ids: np.ndarray  # of str
    vectors: np.ndarray  # (n, 128) float32
    not_person: np.ndarray  # of str ("" for none): a person said this face is not them
    distance: np.ndarray  # of float: a suggestion's distance now, inf for unknown faces


BLOCK_ROWS = 8192  # faces compared per matrix product: bounded memory for big galleries


def nearest_distances(vectors: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """For each row of `vectors`, the Euclidean distance to the nearest row of `gallery`."""
    out = np.full(len(vectors), np.inf, dtype=np.float32)
    if len(vectors) == 0 or len(gallery) == 0:
        return out
    gallery = gallery.astype(np.float32)
    gallery_sq = np.einsum("ij,ij->i", gallery, gallery)
    for start in range(0, len(vectors), BLOCK_ROWS):
        block = vectors[start : start + BLOCK_ROWS].astype(np.float32)
        squared = (
            np.einsum("ij,ij->i", block, block)[:, None]
            + gallery_sq[None, :]
            - 2 * block @ gallery.T
        )
        out[start : start + len(block)] = np.sqrt(np.maximum(squared.min(axis=1), 0.0))
    return out


def suggest_person(
    person_id: str,
    gallery: np.ndarray,
    faces: Undecided,
    *,
    taken_assets: set[str],
    threshold: float = MATCH_DISTANCE,
) -> dict[str, float]:
    """Faces to suggest as `person_id` across the library: face id -> distance.

    The same rules as `suggest` at ingest: the nearest confirmed face must be closer than
    `threshold`; never a face a person said is not them; one face per asset (the
    closest), and none on assets in `taken_assets` (the person is confirmed or suggested
    there already); a face suggested as someone else moves only when this person is
    closer.
    """
    distances = nearest_distances(faces.vectors, gallery)
    eligible = (
        (distances < threshold)
        & (faces.not_person != person_id)
        & (distances < faces.distance)
        & ~np.isin(faces.asset_ids, list(taken_assets))
    )
    rows = np.nonzero(eligible)[0]
    if len(rows) == 0:
        return {}
    # Closest first, then the first row of each asset.
    rows = rows[np.argsort(distances[rows], kind="stable")]
    _assets, first = np.unique(faces.asset_ids[rows], return_index=True)
    return {faces.face_ids[i]: float(distances[i]) for i in rows[np.sort(first)]}
