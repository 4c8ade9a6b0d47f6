"""A person found across the library: confirming one face suggests the person's other
photos that were already there (gdpr.recognition.person_suggestions), with real embeddings of the
johns photos (5 people x 11), on both databases."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import col, select

from dam import biometrics
from dam.models import Face, FaceEmbedding, FaceState, Job, Role
from dam.runtime import Runtime
from gdpr.recognition import identity, people
from gdpr.recognition.face_vectors import FaceVectors
from gdpr.recognition.matching import Undecided, suggest_person
from gdpr.recognition.person_suggestions import SERVICE, TASK
from gdpr.requests import erasure
from ingest.faces.descriptor import DESCRIPTOR_MODEL, describer
from ingest.faces.detect import detect_faces
from tests import faces_corpus
from tests.feed_factories import make_asset, make_user


@pytest.fixture(scope="module")
def vectors() -> dict[str, list[np.ndarray]]:
    """person -> the embedding of the face in the middle of each of their photos."""
    try:
        photos = faces_corpus.johns()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    from PIL import Image

    out: dict[str, list[np.ndarray]] = {}
    for person, paths in photos.items():
        for path in paths:
            rgb = np.asarray(Image.open(path).convert("RGB"))
            found = detect_faces(rgb)
            if not found:
                continue
            middle = min(found, key=lambda d: abs(d.box.center[0] - 75) + abs(d.box.center[1] - 75))
            out.setdefault(person, []).append(describer().describe(rgb, [middle.box])[0])
    return out


def add_face(rt: Runtime, asset_id: str, vector: np.ndarray, **fields: object) -> str:
    key = biometrics.face_key(rt.settings)
    with rt.unit_of_work() as session:
        face = Face(
            asset_id=asset_id, box_x=0.1, box_y=0.1, box_w=0.2, box_h=0.2, score=0.99,
            detector="test", **fields,
        )  # fmt: skip
        session.add(face)
        session.flush()
        session.add(
            FaceEmbedding(
                face_id=face.id,
                model=DESCRIPTOR_MODEL,
                key_id=key.key_id,
                sealed=biometrics.seal(key, face_id=face.id, model=DESCRIPTOR_MODEL, vector=vector),
            )
        )
        return face.id


def library(rt: Runtime, vectors: dict[str, list[np.ndarray]]) -> dict[str, list[str]]:
    """Every johns face on an asset of its own, unknown; person -> face ids."""
    out: dict[str, list[str]] = {}
    for person, found in vectors.items():
        for vector in found:
            out.setdefault(person, []).append(add_face(rt, make_asset(rt), vector))
    return out


def states(rt: Runtime, face_ids: list[str]) -> list[tuple[FaceState, str | None]]:
    with rt.unit_of_work() as session:
        rows = session.exec(select(Face).where(col(Face.id).in_(face_ids)))
        by_id = {f.id: (f.state, f.person_id) for f in rows}
    return [by_id[i] for i in face_ids]


def test_confirming_one_face_suggests_the_persons_photos_already_in_the_library(
    rt: Runtime, vectors: dict[str, list[np.ndarray]]
) -> None:
    faces = library(rt, vectors)
    officer = make_user(rt, Role.privacy_officer)
    first, *others = sorted(faces)
    with rt.unit_of_work() as session:
        person = people.create_person(
            session, data=people.PersonCreate(name="Jan Peeters"), actor=officer
        )
        person_id = person.id
    with rt.session() as session:
        identity.confirm_face(session, face_id=faces[first][0], person_id=person_id, actor=officer)
    with rt.unit_of_work() as session:
        job = session.exec(select(Job).where(Job.stage == TASK)).one()
        # About the person, not the asset of the face that started it (deleting that
        # asset must not take the job along).
        assert (job.person_id, job.asset_id) == (person_id, None)
        assert job.status == "done", job.error
    theirs = states(rt, faces[first][1:])
    assert theirs and all(s == (FaceState.suggested, person_id) for s in theirs), theirs
    for other in others:
        assert all(person != person_id for _state, person in states(rt, faces[other]))
    # The decrypted vectors stay in this worker's memory only, until an erasure.
    assert len(rt.services[SERVICE]) == sum(len(v) for v in faces.values())
    with rt.session() as session:
        erasure.erase_person(
            session,
            person_id=person_id,
            assets=erasure.AssetsChoice.delete,
            actor=officer,
            blobs=rt.blobs,
            settings=rt.settings,
        )
    assert len(rt.services[SERVICE]) == 0


def test_one_face_per_asset_and_never_a_face_said_not_to_be_them(
    rt: Runtime, vectors: dict[str, list[np.ndarray]]
) -> None:
    officer = make_user(rt, Role.privacy_officer)
    person_name = sorted(vectors)[0]
    mine = vectors[person_name]
    with rt.unit_of_work() as session:
        person_id = people.create_person(
            session, data=people.PersonCreate(name="An Claes"), actor=officer
        ).id
    confirmed = add_face(rt, make_asset(rt), mine[0])
    shared = make_asset(rt)  # one photo holding two faces close to the person
    twins = [add_face(rt, shared, mine[1]), add_face(rt, shared, mine[2])]
    refused = add_face(rt, make_asset(rt), mine[3], not_person_id=person_id)
    with rt.session() as session:
        identity.confirm_face(session, face_id=confirmed, person_id=person_id, actor=officer)
    got = states(rt, [*twins, refused])
    assert sorted(s for s, _ in got[:2]) == [FaceState.suggested, FaceState.unknown]
    assert got[2] == (FaceState.unknown, None)


def test_the_cache_opens_only_new_or_resealed_embeddings(
    rt: Runtime, vectors: dict[str, list[np.ndarray]]
) -> None:
    key = biometrics.face_key(rt.settings)
    person = sorted(vectors)[0]
    ids = [add_face(rt, make_asset(rt), v) for v in vectors[person][:3]]
    cache = FaceVectors()

    def rows() -> list:
        from gdpr.recognition.face_vectors import Row

        with rt.unit_of_work() as session:
            found = session.exec(
                select(FaceEmbedding).where(col(FaceEmbedding.face_id).in_(ids))
            ).all()
            return [Row(e.face_id, e.sealed[: biometrics.NONCE_BYTES]) for e in found]

    with rt.unit_of_work() as session:
        got_ids, matrix = cache.matrix(session, key, rows())
    assert sorted(got_ids) == sorted(ids)
    assert np.allclose(matrix[got_ids.index(ids[0])], vectors[person][0], atol=1e-6)
    # A re-detection seals a new vector (new nonce): the cache notices and reopens it.
    with rt.unit_of_work() as session:
        row = session.get(FaceEmbedding, ids[0])
        assert row is not None
        row.sealed = biometrics.seal(
            key, face_id=ids[0], model=DESCRIPTOR_MODEL, vector=vectors[person][5]
        )
        session.add(row)
    with rt.unit_of_work() as session:
        got_ids, matrix = cache.matrix(session, key, rows())
    assert np.allclose(matrix[got_ids.index(ids[0])], vectors[person][5], atol=1e-6)
    # Faces no longer asked for leave the cache.
    with rt.unit_of_work() as session:
        cache.matrix(session, key, rows()[:1])
    assert len(cache) == 1
    cache.close()
    assert len(cache) == 0


@pytest.mark.parametrize(
    ("distance_now", "not_person", "taken", "expected"),
    [
        (np.inf, "", False, {"f2": 0.1}),  # the closer of two faces on one asset
        (0.05, "", False, {"f1": 0.3}),  # f2 is someone else's at 0.05: stays theirs
        (np.inf, "p", False, {"f1": 0.3}),  # a person said f2 is not p
        (np.inf, "", True, {}),  # p is on that asset already
    ],
)
def test_suggest_person_rules(
    distance_now: float, not_person: str, taken: bool, expected: dict[str, float]
) -> None:
    gallery = np.zeros((1, 128), np.float32)
    vectors = np.zeros((3, 128), np.float32)
    vectors[0, 0], vectors[1, 0], vectors[2, 0] = 0.3, 0.1, 0.7  # f0 too far (0.5 is the limit)
    faces = Undecided(
        face_ids=["f0", "f1", "f2"],
        asset_ids=np.array(["a0", "a1", "a1"], dtype=object),
        vectors=vectors[[2, 0, 1]],
        not_person=np.array(["", "", not_person], dtype=object),
        distance=np.array([np.inf, np.inf, distance_now]),
    )
    got = suggest_person("p", gallery, faces, taken_assets={"a1"} if taken else set())
    assert {k: round(v, 3) for k, v in got.items()} == expected
