"""The People pages over HTTP on real face photos: naming groups (one and in bulk), taking a
face out of a group, suggestions confirmed and rejected without scripts, editing, merging,
deleting biometric data; roles; and a page of groups out of a thousand."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam.models import (
    Asset,
    AssetKind,
    AuditEntry,
    Face,
    FaceEmbedding,
    FaceState,
    Person,
    Role,
)
from dam.runtime import Runtime
from gdpr.recognition import clusters, people_overview
from tests import faces_corpus
from tests.conftest import Account
from tests.ui_client import log_in

pytestmark = pytest.mark.one_database

NAME = "Jan Peeters"


@pytest.fixture(scope="session")
def johns() -> dict[str, list[Path]]:
    try:
        return faces_corpus.johns()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))


def upload_face(client: TestClient, account: Account, path: Path) -> dict:
    """A real photo through the pipeline; its one face."""
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (path.name, path.read_bytes(), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    asset = client.get(f"/api/v1/assets/{response.json()['id']}", headers=account.headers).json()
    assert asset["status"] == "ready", asset["error"]
    assert len(asset["faces"]) == 1
    return dict(asset["faces"][0])


def groups(client: TestClient, account: Account) -> dict[str, set[str]]:
    """cluster id -> its face ids, from the API."""
    found = client.get("/api/v1/clusters?sample=100", headers=account.headers).json()
    return {c["id"]: {f["id"] for f in c["faces"]} for c in found}


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+" role="\w+">([^<]*)</p>', html)


def test_naming_groups_one_and_in_bulk(
    client: TestClient,
    make_account: Callable[[Role], Account],
    johns: dict[str, list[Path]],
    rt: Runtime,
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    salley = [upload_face(client, creative, p)["id"] for p in johns["John_Salley"][:3]]
    simm = [upload_face(client, creative, p)["id"] for p in johns["John_Simm"][:2]]
    before = groups(client, creative)
    assert len(before) == 2

    token = log_in(client, officer)
    page = client.get("/people")
    assert page.status_code == 200
    assert "Naamloze groepen" in page.text and "2 groepen" in page.text
    for face in (*salley, *simm):
        assert f"/api/v1/faces/{face}/crop" in page.text  # every face shows as its crop
    crop = client.get(f"/api/v1/faces/{salley[0]}/crop")  # with the session cookie
    assert crop.status_code == 200 and crop.content[:2] == b"\xff\xd8"

    # A wrong face taken out of its group becomes a group of its own; even the face
    # the group is named after (its oldest) can go, and the others stay together.
    salley_group = next(cid for cid, faces in before.items() if salley[0] in faces)
    assert salley_group == min(salley)
    moved = client.post(
        f"/people/faces/{salley_group}/ungroup",
        data={"csrf_token": token, "back": "/people?page=1"},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/people?page=1"
    after = groups(client, creative)
    assert after[salley_group] == {salley_group}
    rest = next(faces for cid, faces in after.items() if cid != salley_group and salley[1] in faces)
    assert rest == set(salley) - {salley_group}

    # Bulk: both Salley groups at once, under a new name (a privacy officer may add people).
    named = client.post(
        "/people/groups",
        data={
            "csrf_token": token,
            "cluster_ids": [cid for cid, f in after.items() if f & set(salley)],
            "name": f"  {NAME} ",
        },
    )
    assert "3 gezichten bevestigd als Jan Peeters." in flashes(named.text)
    listed = client.get("/api/v1/people", headers=creative.headers).json()
    assert [(p["name"], p["faces"]) for p in listed] == [(NAME, 3)]
    person_id = listed[0]["id"]
    assert "3 foto’s" in named.text

    # A creative may name a group after a known person, but not make a new person.
    log_in(client, creative)
    token = log_in(client, creative)
    simm_group = next(cid for cid, f in groups(client, creative).items() if simm[0] in f)
    refused = client.post(
        "/people/groups", data={"csrf_token": token, "cluster_ids": simm_group, "name": "Nieuw"}
    )
    assert "Alleen een privacyverantwoordelijke kan een persoon toevoegen" in refused.text
    assert len(client.get("/api/v1/people", headers=creative.headers).json()) == 1
    blank = client.post(
        "/people/groups", data={"csrf_token": token, "cluster_ids": simm_group, "name": " "}
    )
    assert "Typ de naam van de persoon" in blank.text
    none = client.post("/people/groups", data={"csrf_token": token, "name": NAME})
    assert "Selecteer eerst een of meer groepen." in none.text
    # Typed in other case: the known person, not a new one.
    same = client.post(
        "/people/groups",
        data={"csrf_token": token, "cluster_ids": simm_group, "name": NAME.upper()},
    )
    assert "2 gezichten bevestigd als Jan Peeters." in flashes(same.text)
    assert groups(client, creative) == {}
    assert "Er zijn geen naamloze gezichten." in same.text

    with rt.session() as session:
        entries = list(session.exec(select(AuditEntry)))
        faces = {f.id: f for f in session.exec(select(Face))}
    assert all(faces[f].person_id == person_id for f in (*salley, *simm))
    assert all(faces[f].state == FaceState.confirmed for f in (*salley, *simm))
    actions = [e.action for e in entries]
    assert actions.count("face.confirmed") == 5 and actions.count("face.ungrouped") == 1
    assert "Peeters" not in " ".join(str(e.details) for e in entries)  # ids, never names


def test_dismissing_a_face_from_a_group(
    client: TestClient, creative: Account, johns: dict[str, list[Path]]
) -> None:
    face = upload_face(client, creative, johns["John_Shimkus"][0])["id"]
    token = log_in(client, creative)
    wrong = client.post(
        f"/people/faces/{face}/dismiss", data={"csrf_token": token, "reason": "anything"}
    )
    assert "Kies waarom het gezicht wordt afgewezen." in wrong.text
    done = client.post(
        f"/people/faces/{face}/dismiss", data={"csrf_token": token, "reason": "not a face"}
    )
    assert "Het gezicht is afgewezen." in flashes(done.text)
    state = client.get(f"/api/v1/faces/{face}", headers=creative.headers).json()
    assert (state["state"], state["dismiss_reason"]) == ("dismissed", "not a face")
    again = client.post(f"/people/faces/{face}/ungroup", data={"csrf_token": token})
    assert "Dit is intussen gewijzigd." in again.text
    forged = client.post(f"/people/faces/{face}/ungroup", data={"csrf_token": "forged"})
    assert forged.status_code == 403


def test_person_page_suggestions_edit_merge_and_biometrics(
    client: TestClient,
    make_account: Callable[[Role], Account],
    johns: dict[str, list[Path]],
    rt: Runtime,
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    known = [upload_face(client, creative, p)["id"] for p in johns["John_Savage"][:2]]
    token = log_in(client, officer)
    created = client.post(
        "/people",
        data={"csrf_token": token, "name": NAME, "is_minor": "true"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    person_id = created.headers["location"].rsplit("/", 1)[-1]
    group = next(iter(groups(client, creative)))
    client.post("/people/groups", data={"csrf_token": token, "cluster_ids": group, "name": NAME})

    # New photos of the same man arrive as suggestions, not decisions.
    first = upload_face(client, creative, johns["John_Savage"][5])
    second = upload_face(client, creative, johns["John_Savage"][6])
    assert {first["state"], second["state"]} == {"suggested"}
    page = client.get(f"/people/{person_id}")
    assert page.status_code == 200
    assert "<h1>Jan Peeters</h1>" in page.text and "minderjarig" in page.text
    assert "Te controleren suggesties" in page.text and "(2)" in page.text
    assert page.text.count('class="suggestion"') == 2
    assert page.text.count('href="/assets/') >= 4  # 2 suggestions + 2 confirmed photos
    assert "Druk op Y of Enter" in page.text  # the keyboard shortcuts are documented

    yes = client.post(
        f"/people/{person_id}/suggestions/{first['id']}",
        data={"csrf_token": token, "decision": "confirm"},
        follow_redirects=False,
    )
    assert yes.headers["location"] == f"/people/{person_id}#suggestions"
    no = client.post(
        f"/people/{person_id}/suggestions/{second['id']}",
        data={"csrf_token": token, "decision": "reject"},
    )
    assert "Afgewezen: niet deze persoon." in flashes(no.text)
    assert 'class="suggestion"' not in no.text and "3 foto’s" in no.text
    faces = {f["id"]: f for f in client.get("/api/v1/faces", headers=creative.headers).json()}
    assert (faces[first["id"]]["state"], faces[first["id"]]["person_id"]) == (
        "confirmed",
        person_id,
    )
    assert (faces[second["id"]]["state"], faces[second["id"]]["person_id"]) == ("unknown", None)

    bad = client.post(f"/people/{person_id}", data={"csrf_token": token, "name": "  "})
    assert bad.status_code == 422 and 'id="error-name"' in bad.text
    saved = client.post(
        f"/people/{person_id}",
        data={"csrf_token": token, "name": "Jan  Peeters-Claes", "notes": "Fotograaf", "email": ""},
    )
    assert "De wijzigingen zijn bewaard." in flashes(saved.text)
    assert "<h1>Jan Peeters-Claes</h1>" in saved.text and "minderjarig" not in saved.text

    other = client.post("/people", data={"csrf_token": token, "name": "J. Peeters"})
    other_id = str(other.url).rsplit("/", 1)[-1]
    client.post(
        f"/people/{other_id}/suggestions/{second['id']}",
        data={"csrf_token": token, "decision": "confirm"},
    )
    ask = client.post(
        f"/people/{person_id}/merge", data={"csrf_token": token, "other_id": other_id}
    )
    assert "J. Peeters samenvoegen met Jan Peeters-Claes?" in ask.text
    assert client.get(f"/people/{other_id}").status_code == 200  # asking changed nothing
    merged = client.post(
        f"/people/{person_id}/merge",
        data={"csrf_token": token, "other_id": other_id, "confirm": "yes"},
    )
    assert "De twee personen zijn samengevoegd." in flashes(merged.text)
    assert client.get(f"/people/{other_id}").status_code == 404
    assert "4 foto’s" in merged.text

    ask = client.post(f"/people/{person_id}/embeddings", data={"csrf_token": token})
    assert "biometrische gegevens van Jan Peeters-Claes verwijderen?" in ask.text
    deleted = client.post(
        f"/people/{person_id}/embeddings", data={"csrf_token": token, "confirm": "yes"}
    )
    assert "De biometrische gegevens van 4 gezichten zijn verwijderd." in flashes(deleted.text)
    with rt.session() as session:
        ids = [*known, first["id"], second["id"]]
        assert all(session.get(FaceEmbedding, f) is None for f in ids)
        details = " ".join(str(e.details) for e in session.exec(select(AuditEntry)))
    assert "Peeters" not in details and "Fotograaf" not in details


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.viewer, 403), (Role.creative, 200), (Role.privacy_officer, 200)],
)
def test_who_sees_what(
    client: TestClient, make_account: Callable[[Role], Account], role: Role, status: int
) -> None:
    token = log_in(client, make_account(role))
    page = client.get("/people")
    assert page.status_code == status
    menu = re.search(r'<nav class="main-nav".*?</nav>', page.text, re.S)
    assert menu is not None and ("Personen" in menu[0]) == (status == 200)
    if role == Role.creative:
        assert "Nieuwe persoon" not in page.text  # only privacy officers add people
        made = client.post("/people", data={"csrf_token": token, "name": NAME})
        assert made.status_code == 403


def test_the_person_page_shows_consent_evidence_only_to_who_manages_consents(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    with rt.unit_of_work() as session:
        person = Person(name=NAME)
        session.add(person)
        shown = {}
        for name, restricted in (("gewoon.jpg", False), ("toestemming.jpg", True)):
            asset = Asset(
                kind=AssetKind.image,
                filename=name,
                mime="image/jpeg",
                size=1,
                sha256=f"{int(restricted)}" * 64,
                restricted=restricted,
            )
            session.add(asset)
            session.flush()
            session.add(
                Face(
                    asset_id=asset.id,
                    box_x=0.1,
                    box_y=0.1,
                    box_w=0.1,
                    box_h=0.1,
                    score=0.9,
                    detector="test",
                    person_id=person.id,
                    state=FaceState.confirmed,
                )
            )
            shown[restricted] = f'href="/assets/{asset.id}"'
        person_id = person.id
    for role, sees_evidence in ((Role.creative, False), (Role.privacy_officer, True)):
        log_in(client, make_account(role))
        page = client.get(f"/people/{person_id}").text
        assert shown[False] in page
        assert (shown[True] in page) == sees_evidence, role


def test_a_page_of_groups_out_of_a_thousand(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """1,000 groups (5,500 faces): one page is read in a few queries and renders fast."""
    with rt.unit_of_work() as session:
        asset = Asset(
            kind=AssetKind.image,
            filename="groep.jpg",
            mime="image/jpeg",
            size=1,
            sha256="0" * 64,
        )
        session.add(asset)
        session.flush()
        for group in range(1000):
            size = 1 + group % 10  # 1..10 faces: 5,500 in all
            for k in range(size):
                session.add(
                    Face(
                        id=f"f{group:04d}{k}",
                        asset_id=asset.id,
                        box_x=0.1,
                        box_y=0.1,
                        box_w=0.1,
                        box_h=0.1,
                        score=0.9,
                        detector="test",
                        cluster_id=f"f{group:04d}0",
                    )
                )
    with rt.session() as session:
        every = clusters.list_clusters(session)
        started = time.perf_counter()
        first = people_overview.cluster_page(session, page=1)
        last = people_overview.cluster_page(session, page=10_000)
        took = time.perf_counter() - started
    assert first.paging.total == len(every) == 1000 and first.paging.per_page == 20
    assert [c.id for c in first.clusters] == [c.id for c in every[:20]]
    assert [c.size for c in first.clusters] == [len(c.faces) for c in every[:20]]
    assert all(len(c.faces) == min(c.size, 8) for c in first.clusters)
    assert [f.id for f in first.clusters[0].faces] == [f.id for f in every[0].faces[:8]]
    assert last.paging.page == last.paging.pages and last.clusters  # clamped to the end
    assert [c.id for c in last.clusters] == [c.id for c in every[(last.paging.page - 1) * 20 :]]

    log_in(client, make_account(Role.privacy_officer))
    started = time.perf_counter()
    page = client.get("/people?groups=2")
    rendered = time.perf_counter() - started
    assert page.text.count('<li class="group"') == 20
    assert "Pagina 2 van" in page.text
    print(f"cluster_page x2: {took * 1000:.0f} ms; GET /people?groups=2: {rendered * 1000:.0f} ms")
    assert took < 2 and rendered < 5  # generous: a shared 2-core machine
