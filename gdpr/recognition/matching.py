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
