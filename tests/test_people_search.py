"""GET /api/v1/people/search, what the asset page's people picker asks as you type: words
start words of the name (any case, accents optional), a few people at a time in name
order with `more` when others match, hidden people only for privacy officers, erased
people never, 403 for a role that may not read people; and a library of 5,000 people
answered through the name index (not read whole)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from dam.models import Asset, Face, FaceState, Person, Role
from dam.models.faces import name_key
from dam.runtime import Runtime
from gdpr.recognition import people, people_overview, people_search
from gdpr.requests import erasure
from tests.conftest import Account
from tests.ui_client import upload

URL = "/api/v1/people/search"


def make_people(rt: Runtime, officer: Account, *names: str, hidden: bool = False) -> list[str]:
    """People made through the service, as a privacy officer does."""
    ids = []
    with rt.session() as session:
        for name in names:
            data = people.PersonCreate.model_validate({"name": name, "hidden": hidden})
            ids.append(people.create_person(session, data=data, actor=officer.user).id)
    return ids


def names(client: TestClient, account: Account, q: str, **params: object) -> list[str]:
    response = client.get(URL, params={"q": q, **params}, headers=account.headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_name_keys_fold_case_accents_and_punctuation() -> None:
    assert name_key("Gaëlle D'Hondt-Peeters") == "gaelle d hondt peeters"
    assert name_key("  ÉMILE   van_den  Broeck ") == "emile van den broeck"
    assert name_key("Ølaf Straße") == "ølaf strasse"  # no accent to drop from Ø
    assert name_key("%_") == ""


def test_words_start_words_of_the_name_in_any_case_with_or_without_accents(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    officer = make_account(Role.privacy_officer)
    creative = make_account(Role.creative)
    make_people(
        rt, officer, "Jan Peeters", "Gaëlle D'Hondt-Peeters", "Marie Jansen", "Pieter Claes"
    )
    assert names(client, creative, "pee") == ["Gaëlle D'Hondt-Peeters", "Jan Peeters"]
    assert names(client, creative, "JAN") == ["Jan Peeters", "Marie Jansen"]
    assert names(client, creative, "gael hondt") == ["Gaëlle D'Hondt-Peeters"]
    assert names(client, creative, "Gaëlle") == names(client, creative, "gaelle")
    assert names(client, creative, "d'hondt") == ["Gaëlle D'Hondt-Peeters"]
    assert names(client, creative, "eter") == []  # inside a word is no match
    assert names(client, creative, "jan claes") == []  # every word must match
    assert names(client, creative, "100%") == []  # no wildcard reaches LIKE
    assert names(client, creative, "_") == names(client, creative, "")  # no words: by name


def test_a_few_at_a_time_in_name_order_with_more(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    officer = make_account(Role.privacy_officer)
    make_people(rt, officer, *(f"Lid {n:02d} Koor" for n in range(14)))
    answer = client.get(URL, params={"q": "koor"}, headers=officer.headers).json()
    assert [p["name"] for p in answer["items"]] == [f"Lid {n:02d} Koor" for n in range(10)]
    assert answer["more"] is True  # ten by default, and others match
    three = client.get(URL, params={"q": "lid", "limit": 3}, headers=officer.headers).json()
    assert [p["name"] for p in three["items"]] == ["Lid 00 Koor", "Lid 01 Koor", "Lid 02 Koor"]
    every = client.get(URL, params={"q": "lid", "limit": 50}, headers=officer.headers).json()
    assert len(every["items"]) == 14 and every["more"] is False
    for limit in (0, 51, "veel"):
        refused = client.get(URL, params={"q": "lid", "limit": limit}, headers=officer.headers)
        assert refused.status_code == 422, limit
        assert refused.json()["error"]["code"] == "invalid_input"
    too_long = client.get(URL, params={"q": "x" * 201}, headers=officer.headers)
    assert too_long.status_code == 422


def test_hidden_people_only_for_officers_erased_never_and_viewers_refused(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    officer = make_account(Role.privacy_officer)
    creative = make_account(Role.creative)
    viewer = make_account(Role.viewer)
    make_people(rt, officer, "Ruben Verhoeven")
    make_people(rt, officer, "Rita Verhoeven", hidden=True)
    (erased,) = make_people(rt, officer, "Roos Verhoeven")
    with rt.session() as session:
        erasure.erase_person(
            session,
            person_id=erased,
            assets=erasure.AssetsChoice.delete,
            actor=officer.user,
            blobs=rt.blobs,
            settings=rt.settings,
        )

    assert names(client, creative, "verhoeven") == ["Ruben Verhoeven"]
    assert names(client, creative, "rita") == []
    assert names(client, officer, "verhoeven") == ["Rita Verhoeven", "Ruben Verhoeven"]
    assert names(client, make_account(Role.admin), "rita") == ["Rita Verhoeven"]

    refused = client.get(URL, params={"q": "verhoeven"}, headers=viewer.headers)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error == {"code": "forbidden", "message": "This needs the role creative or higher."}
    assert client.get(URL, params={"q": "verhoeven"}).status_code == 401


def test_photos_count_only_assets_the_caller_may_see(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    officer = make_account(Role.privacy_officer)
    creative = make_account(Role.creative)
    (person_id,) = make_people(rt, officer, "Sanne Wouters")
    shown = [upload(client, creative, seed=seed) for seed in (71, 72)]
    secret = upload(client, creative, seed=73)
    with rt.unit_of_work() as session:
        restricted = session.get(Asset, secret)
        assert restricted is not None
        restricted.restricted = True
        for asset_id in (*shown, secret, shown[0]):  # two faces on one photo count once
            session.add(
                Face(asset_id=asset_id, box_x=0.1, box_y=0.1, box_w=0.2, box_h=0.2, score=0.9,
                     detector="test", state=FaceState.confirmed, person_id=person_id)
            )  # fmt: skip
        session.add(
            Face(asset_id=shown[1], box_x=0.5, box_y=0.1, box_w=0.2, box_h=0.2, score=0.9,
                 detector="test", state=FaceState.suggested, person_id=person_id)
        )  # fmt: skip

    def photos(account: Account) -> int:
        answer = client.get(URL, params={"q": "sanne"}, headers=account.headers).json()
        return int(answer["items"][0]["photos"])

    assert photos(creative) == 2
    assert photos(officer) == 3  # privacy officers see restricted assets


def five_thousand(session: Session) -> None:
    """5,000 people in one transaction: Person rows as people.create_person adds them (its
    audit entry and commit per person would cost half a minute here)."""
    first = ["Jan", "Els", "Pieter", "An", "Tom", "Sofie", "Koen", "Lies", "Wim", "Griet"]
    last = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"]
    session.add_all(
        Person(name=f"{first[n % 10]} {last[(n // 10) % 8]} {n:04d}", hidden=n % 50 == 0)
        for n in range(5_000)
    )
    session.commit()


def test_five_thousand_people_are_searched_through_the_name_index(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    creative = make_account(Role.creative)
    with rt.session() as session:
        five_thousand(session)
    answer = client.get(URL, params={"q": "sofie maes"}, headers=creative.headers).json()
    found = [p["name"] for p in answer["items"]]
    assert len(found) == 10 and answer["more"] is True
    assert found == sorted(found) and all(n.startswith("Sofie Maes ") for n in found)
    # Every 50th is hidden: "Jan Peeters 0400" for officers only.
    assert names(client, creative, "jan peeters 04") == ["Jan Peeters 0480"]
    assert names(client, creative, "4999") == ["Griet Jacobs 4999"]
    if rt.engine.dialect.name == "sqlite":
        # Read in name order from the index, stopping after a page: no sort of everyone.
        statement = people_search.matching("sofie maes", creative.user).limit(11)
        with rt.engine.connect() as conn:
            compiled = statement.compile(conn, compile_kwargs={"literal_binds": True})
            plan = " ".join(
                str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
        assert "ix_person_name_key" in plan and "TEMP B-TREE" not in plan, plan


def test_exclude_leaves_one_person_out(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    officer = make_account(Role.privacy_officer)
    jan, _ = make_people(rt, officer, "Jan Peeters", "Jan Peeters")
    answer = client.get(URL, params={"q": "jan", "exclude": jan}, headers=officer.headers).json()
    assert [p["id"] for p in answer["items"]] != [jan] and len(answer["items"]) == 1
    assert jan not in {p["id"] for p in answer["items"]}
    assert len(names(client, officer, "jan")) == 2


def test_a_page_of_five_thousand_people_for_the_people_page(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """people_overview.people_page: the People page's list, as the picker finds people."""
    creative = make_account(Role.creative)
    officer = make_account(Role.privacy_officer)
    with rt.session() as session:
        five_thousand(session)
    with rt.session() as session:
        first = people_overview.people_page(session, text="", viewer=creative.user)
        last = people_overview.people_page(session, text="", viewer=creative.user, page=9_999)
        everyone = people_overview.people_page(session, text="", viewer=officer.user)
        sofie = people_overview.people_page(session, text="sofie maes", viewer=creative.user)
        hidden = people_overview.people_page(session, text="jan peeters 04", viewer=creative.user)
        for_officer = people_overview.people_page(
            session, text="jan peeters 04", viewer=officer.user
        )
    assert (first.paging.total, everyone.paging.total) == (4_900, 5_000)  # every 50th hidden
    assert first.paging.per_page == 48 and len(first.rows) == 48
    listed = [r.person.name_key for r in first.rows]
    assert listed == sorted(listed) and listed[0].startswith("an claes")
    assert last.paging.page == last.paging.pages == 103  # clamped to the end
    assert len(last.rows) == 4_900 - 102 * 48
    assert not any(r.person.hidden for r in first.rows + last.rows)
    assert sofie.paging.total == 63  # Sofie (n % 10 == 5) Maes (n // 10 % 8 == 2), none hidden
    assert all(r.person.name.startswith("Sofie Maes ") for r in sofie.rows)
    assert [r.person.name for r in hidden.rows] == ["Jan Peeters 0480"]
    assert [r.person.name for r in for_officer.rows] == ["Jan Peeters 0400", "Jan Peeters 0480"]


def test_the_people_page_counts_and_covers_only_what_the_viewer_may_see(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    officer = make_account(Role.privacy_officer)
    creative = make_account(Role.creative)
    (person_id,) = make_people(rt, officer, "Sanne Wouters")
    shown, secret = upload(client, creative, seed=74), upload(client, creative, seed=75)
    with rt.unit_of_work() as session:
        restricted = session.get(Asset, secret)
        assert restricted is not None
        restricted.restricted = True
        faces = {}
        for key, asset_id, state in (
            ("secret", secret, FaceState.confirmed),
            ("shown", shown, FaceState.confirmed),
            ("suggested", shown, FaceState.suggested),
        ):
            face = Face(asset_id=asset_id, box_x=0.1, box_y=0.1, box_w=0.2, box_h=0.2,
                        score=0.9, detector="test", state=state, person_id=person_id,
                        crop_path=f"crops/{key}.jpg")  # fmt: skip
            session.add(face)
            faces[key] = face.id
    with rt.session() as session:
        (mine,) = people_overview.people_page(session, text="", viewer=creative.user).rows
        (theirs,) = people_overview.people_page(session, text="", viewer=officer.user).rows
    assert (mine.photos, mine.pending, mine.cover_face_id) == (1, 1, faces["shown"])
    assert (theirs.photos, theirs.pending) == (2, 1)
    assert theirs.cover_face_id == min(faces["shown"], faces["secret"])
