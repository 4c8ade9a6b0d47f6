"""Faces through the API on real photos: orientation, clusters, naming, decisions, privacy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam import biometrics, jobs, migrate
from dam.geometry import Box, iou
from dam.models import AuditEntry, FaceEmbedding, Role
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from tests import faces_corpus
from tests.conftest import Account
from tests.corpus import CorpusUnavailable, pillow_tests_dir
from web.app import create_app

pytestmark = pytest.mark.one_database

NAME = "Jan Peeters"


@pytest.fixture(scope="session")
def johns() -> dict[str, list[Path]]:
    try:
        return faces_corpus.johns()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))


def upload(client: TestClient, account: Account, path: Path) -> dict:
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (path.name, path.read_bytes(), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    asset = client.get(f"/api/v1/assets/{response.json()['id']}", headers=account.headers)
    assert asset.json()["status"] == "ready", asset.json()["error"]
    return asset.json()


def as_box(face: dict) -> Box:
    return Box(face["box"]["x"], face["box"]["y"], face["box"]["w"], face["box"]["h"])


def test_every_hopper_orientation_has_one_face_in_the_upright_place(
    client: TestClient, creative: Account
) -> None:
    try:
        images = pillow_tests_dir() / "images"
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    reference = upload(client, creative, images / "hopper.jpg")["faces"]
    assert len(reference) == 1
    for n in range(2, 9):
        faces = upload(client, creative, images / f"hopper_orientation_{n}.jpg")["faces"]
        assert len(faces) == 1, n
        # Only right after the EXIF orientation is applied is the face where hopper's is.
        assert iou(as_box(faces[0]), as_box(reference[0])) >= 0.6, n
        assert set(faces[0]) >= {"id", "box", "score", "person_id", "state"}
        assert faces[0]["state"] == "unknown"


def cluster_of(client: TestClient, account: Account) -> dict[str, str]:
    """face id -> cluster id, for every unknown face."""
    clusters = client.get("/api/v1/clusters?sample=100", headers=account.headers).json()
    return {f["id"]: c["id"] for c in clusters for f in c["faces"]}


def test_clusters_suggestions_and_naming(
    client: TestClient,
    make_account: Callable[[Role], Account],
    johns: dict[str, list[Path]],
    rt: Runtime,
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    salley = [upload(client, creative, p)["faces"][0]["id"] for p in johns["John_Salley"][:3]]
    simm = [upload(client, creative, p)["faces"][0]["id"] for p in johns["John_Simm"][:3]]
    clusters = cluster_of(client, creative)
    assert len({clusters[f] for f in salley}) == 1  # the same person clusters together
    assert len({clusters[f] for f in simm}) == 1
    assert clusters[salley[0]] != clusters[simm[0]]  # different people do not

    forbidden = client.post("/api/v1/people", headers=creative.headers, json={"name": NAME})
    assert forbidden.status_code == 403
    person = client.post("/api/v1/people", headers=officer.headers, json={"name": NAME})
    assert person.status_code == 201
    person_id = person.json()["id"]
    named = client.post(
        f"/api/v1/clusters/{clusters[salley[0]]}/assign",
        headers=creative.headers,
        json={"person_id": person_id},
    )
    assert named.json()["confirmed"] == 3

    # A new photo of the same man is suggested as him, not confirmed.
    new = upload(client, creative, johns["John_Salley"][5])["faces"][0]
    assert new["state"] == "suggested" and new["person_id"] == person_id
    face = client.get(f"/api/v1/faces/{new['id']}", headers=creative.headers).json()
    assert 0 < face["distance"] < 0.5
    other = upload(client, creative, johns["John_Schneider"][0])["faces"][0]
    assert other["state"] == "unknown" and other["person_id"] is None

    confirmed = client.post(
        f"/api/v1/faces/{new['id']}/confirm",
        headers=creative.headers,
        json={"person_id": person_id},
    )
    assert confirmed.json()["state"] == "confirmed"
    view = client.get(f"/api/v1/people/{person_id}", headers=creative.headers).json()
    assert {f["id"] for f in view["faces"]} == {*salley, new["id"]}
    assert len(view["assets"]) == 4

    with rt.session() as session:
        entries = list(session.exec(select(AuditEntry)))
    confirmations = [e for e in entries if e.action == "face.confirmed"]
    assert len(confirmations) == 4
    assert all(e.details["person_id"] == person_id for e in confirmations)
    text = " ".join(str(e.details) for e in entries)
    assert "Peeters" not in text  # ids, never names
    for response_body in (view, face, named.json()):
        assert "sealed" not in str(response_body) and "embedding" not in str(response_body)


def test_dismiss_split_and_merge(
    client: TestClient,
    make_account: Callable[[Role], Account],
    johns: dict[str, list[Path]],
    rt: Runtime,
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    first = upload(client, creative, johns["John_Savage"][0])["faces"][0]["id"]
    second = upload(client, creative, johns["John_Savage"][1])["faces"][0]["id"]
    third = upload(client, creative, johns["John_Shimkus"][0])["faces"][0]["id"]
    a = client.post("/api/v1/people", headers=officer.headers, json={"name": "A"}).json()["id"]
    b = client.post("/api/v1/people", headers=officer.headers, json={"name": "B"}).json()["id"]
    for face, person in ((first, a), (second, b)):
        client.post(
            f"/api/v1/faces/{face}/confirm", headers=creative.headers, json={"person_id": person}
        )

    dismissed = client.post(
        f"/api/v1/faces/{third}/dismiss", headers=creative.headers, json={"reason": "poster"}
    )
    assert dismissed.json()["state"] == "dismissed"
    assert dismissed.json()["dismiss_reason"] == "poster"
    assert third not in cluster_of(client, creative)

    merged = client.post(f"/api/v1/people/{a}/merge", headers=officer.headers, json={"other_id": b})
    assert merged.status_code == 200
    assert {f["id"] for f in merged.json()["faces"]} == {first, second}
    assert client.get(f"/api/v1/people/{b}", headers=creative.headers).status_code == 404

    split = client.post(f"/api/v1/faces/{second}/split", headers=creative.headers)
    assert split.json()["state"] == "unknown" and split.json()["person_id"] is None
    # Re-running recognition never suggests the person it was split from again.
    with rt.unit_of_work() as session:
        asset_id = client.get(f"/api/v1/faces/{second}", headers=creative.headers).json()
        jobs.schedule(session, asset_id=asset_id["asset_id"], stage="identity")
    again = client.get(f"/api/v1/faces/{second}", headers=creative.headers).json()
    assert again["state"] == "unknown"

    with rt.session() as session:
        actions = [e.action for e in session.exec(select(AuditEntry))]
    assert {"face.dismissed", "person.merged", "face.split", "person.created"} <= set(actions)


def test_embeddings_are_sealed_and_deletable_per_person(
    client: TestClient,
    make_account: Callable[[Role], Account],
    johns: dict[str, list[Path]],
    rt: Runtime,
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    face = upload(client, creative, johns["John_Simm"][4])["faces"][0]["id"]
    keep = upload(client, creative, johns["John_Savage"][4])["faces"][0]["id"]
    person = client.post("/api/v1/people", headers=officer.headers, json={"name": NAME})
    person_id = person.json()["id"]
    client.post(
        f"/api/v1/faces/{face}/confirm", headers=creative.headers, json={"person_id": person_id}
    )
    with rt.session() as session:
        row = session.get(FaceEmbedding, face)
        assert row is not None
        vector = biometrics.unseal(
            biometrics.face_key(rt.settings), face_id=face, model=row.model, sealed=row.sealed
        )
        assert vector.shape == (128,) and np.isfinite(vector).all()
        assert vector.tobytes() not in row.sealed  # encrypted at rest

    assert (
        client.delete(
            f"/api/v1/people/{person_id}/embeddings", headers=creative.headers
        ).status_code
        == 403
    )
    deleted = client.delete(f"/api/v1/people/{person_id}/embeddings", headers=officer.headers)
    assert deleted.json() == {"person_id": person_id, "deleted": 1}
    with rt.session() as session:
        assert session.get(FaceEmbedding, face) is None
        assert session.get(FaceEmbedding, keep) is not None  # another person's stays


def test_rebuilding_keeps_confirmed_faces(
    client: TestClient,
    make_account: Callable[[Role], Account],
    johns: dict[str, list[Path]],
    rt: Runtime,
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    asset = upload(client, creative, johns["John_Schneider"][3])
    face = asset["faces"][0]["id"]
    person_id = client.post("/api/v1/people", headers=officer.headers, json={"name": "X"}).json()[
        "id"
    ]
    client.post(
        f"/api/v1/faces/{face}/confirm", headers=creative.headers, json={"person_id": person_id}
    )
    with rt.unit_of_work() as session:
        jobs.schedule(session, asset_id=asset["id"], stage="faces")
    after = client.get(f"/api/v1/assets/{asset['id']}", headers=creative.headers).json()["faces"]
    assert [(f["id"], f["state"], f["person_id"]) for f in after] == [
        (face, "confirmed", person_id)
    ]
    crop = client.get(f"/api/v1/faces/{face}/crop", headers=creative.headers)
    assert crop.status_code == 200 and crop.content[:2] == b"\xff\xd8"


@pytest.fixture
def detection_only(settings_factory: Callable[..., Settings]) -> Iterator[TestClient]:
    runtime = build_runtime(settings_factory(face_recognition=False))
    migrate.upgrade(runtime.engine)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        test_client.app.state.test_runtime = runtime  # type: ignore[attr-defined]
        yield test_client
    runtime.close()


def test_detection_only_stores_no_embeddings(
    detection_only: TestClient, johns: dict[str, list[Path]]
) -> None:
    from dam import auth

    runtime: Runtime = detection_only.app.state.test_runtime  # type: ignore[attr-defined]
    with runtime.unit_of_work() as session:
        user = auth.create_user(
            session, email="c@example.test", password="correct horse battery", role=Role.creative
        )
        token = auth.create_token(session, user=user)
    account = Account(user, token)
    faces = upload(detection_only, account, johns["John_Salley"][7])["faces"]
    assert len(faces) == 1 and faces[0]["state"] == "unknown"
    with runtime.session() as session:
        assert list(session.exec(select(FaceEmbedding))) == []
    assert detection_only.get("/api/v1/clusters", headers=account.headers).json() == []
