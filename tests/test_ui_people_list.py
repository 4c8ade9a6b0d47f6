"""The People page at scale over HTTP, without scripts: a page of people out of 5,000 with
the count in the locale's numbers, the name search (the picker's rules), pages that keep
the search and the groups' page, hidden people only for privacy officers, clear empty
states; merging by name without scripts; the person page's and the privacy dashboard's
assets as the library's tiles."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam.models import Asset, Face, FaceState, Person, Role
from dam.runtime import Runtime
from tests.conftest import Account
from tests.test_people_search import five_thousand
from tests.ui_client import log_in, upload

pytestmark = pytest.mark.one_database


def cards(html: str) -> list[str]:
    """The people listed, in order."""
    return re.findall(r'<span class="person-name">([^<]*)</span>', html)


def count(html: str) -> str:
    found = re.search(r'<p class="result-count" id="people-count">([^<]*)</p>', html)
    assert found is not None
    return found[1].strip()


def test_a_page_of_five_thousand_people_searched_and_paged_without_scripts(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    with rt.session() as session:
        five_thousand(session)
    log_in(client, make_account(Role.creative))
    first = client.get("/people")
    assert first.status_code == 200
    assert count(first.text) == "4.900 personen"  # every 50th is hidden from creatives
    listed = cards(first.text)
    assert len(listed) == 48 and listed[0] == "An Claes 0063"
    assert "Pagina 1 van 103" in first.text
    assert '<a href="/people?page=2" rel="next"' in first.text
    assert "Jan Peeters 0400" not in client.get("/people?page=60").text

    # Words start words of the name, any case, accents optional; pages keep the words.
    found = client.get("/people", params={"q": "SOFIE  maes"})
    assert count(found.text) == "63 personen"
    assert all(n.startswith("Sofie Maes ") for n in cards(found.text))
    assert 'value="SOFIE maes"' in found.text
    nxt = re.search(r'<a href="([^"]+)" rel="next"', found.text)
    assert nxt is not None
    second = client.get(nxt[1].replace("&amp;", "&"))
    assert parse_qs(urlsplit(nxt[1].replace("&amp;", "&")).query) == {
        "q": ["SOFIE maes"],
        "page": ["2"],
    }
    assert len(cards(second.text)) == 15 and "Pagina 2 van 2" in second.text
    assert not set(cards(second.text)) & set(cards(found.text))

    one = client.get("/people", params={"q": "4999"})
    assert count(one.text) == "1 persoon" and cards(one.text) == ["Griet Jacobs 4999"]
    assert 'class="pager"' not in one.text
    nobody = client.get("/people", params={"q": "xyz"})
    assert count(nobody.text) == "0 personen" and cards(nobody.text) == []
    assert "Geen personen gevonden voor “xyz”." in nobody.text
    assert client.get("/people", params={"page": "abc"}).status_code == 200  # lenient


def test_hidden_people_are_listed_only_for_who_may_find_them(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    with rt.unit_of_work() as session:
        session.add_all([Person(name="Open Baar"), Person(name="Ver Borgen", hidden=True)])
    log_in(client, make_account(Role.creative))
    assert cards(client.get("/people").text) == ["Open Baar"]
    assert cards(client.get("/people?q=borgen").text) == []
    log_in(client, make_account(Role.privacy_officer))
    page = client.get("/people").text
    assert cards(page) == ["Open Baar", "Ver Borgen"] and "verborgen bij zoeken" in page
    assert count(page) == "2 personen"


def test_nobody_named_yet(client: TestClient, make_account: Callable[[Role], Account]) -> None:
    log_in(client, make_account(Role.privacy_officer))
    page = client.get("/people").text
    assert count(page) == "0 personen"
    assert "Nog niemand heeft een naam." in page
    assert "Geen personen gevonden" not in page


def test_merging_by_name_without_scripts(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    with rt.unit_of_work() as session:
        jan, twin, els = Person(name="Jan Peeters"), Person(name="Jan Peeters"), Person(name="Els")
        session.add_all([jan, twin, els])
        session.flush()
        jan_id, twin_id = jan.id, twin.id
    token = log_in(client, make_account(Role.privacy_officer))
    page = client.get(f"/people/{jan_id}").text
    assert "<select" not in page  # no list of everyone
    assert f'data-exclude="{jan_id}"' in page and 'data-chosen="other_id"' in page

    # Without scripts the field holds a name only: a page of matches, never the person.
    typed = client.post(
        f"/people/{jan_id}/merge",
        data={"csrf_token": token, "other_id": "", "name": " jan  pee "},
        follow_redirects=False,
    )
    assert typed.status_code == 303
    assert typed.headers["location"] == f"/people/{jan_id}/merge?name=jan+pee"
    matches = client.get(typed.headers["location"]).text
    assert "Wie voeg je samen met Jan Peeters?" in matches
    offered = re.findall(r'name="other_id" value="([^"]+)"', matches)
    assert offered == [twin_id]
    assert "Jan Peeters samenvoegen met Jan Peeters…" in matches
    none = client.get(f"/people/{jan_id}/merge", params={"name": "zzz"}).text
    assert "Niemand gevonden met deze naam." in none

    ask = client.post(f"/people/{jan_id}/merge", data={"csrf_token": token, "other_id": twin_id})
    assert "Jan Peeters samenvoegen met Jan Peeters?" in ask.text  # the confirmation page
    with rt.session() as session:
        assert session.get(Person, twin_id) is not None  # asking changed nothing
    itself = client.post(
        f"/people/{jan_id}/merge",
        data={"csrf_token": token, "other_id": jan_id, "confirm": "yes"},
    )
    assert "Kies de persoon om mee samen te voegen." in itself.text
    done = client.post(
        f"/people/{jan_id}/merge",
        data={"csrf_token": token, "other_id": twin_id, "confirm": "yes"},
    )
    assert "De twee personen zijn samengevoegd." in done.text
    with rt.session() as session:
        assert session.get(Person, twin_id) is None

    log_in(client, make_account(Role.creative))
    assert client.get(f"/people/{jan_id}/merge?name=els").status_code == 403


def test_person_page_and_dashboard_show_the_library_tiles(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    creative = make_account(Role.creative)
    officer = make_account(Role.privacy_officer)
    wide = upload(client, creative, seed=81)
    with rt.unit_of_work() as session:
        person = Person(name="Tegel Test")
        session.add(person)
        session.flush()
        person_id = person.id
        session.add_all(
            [
                Face(asset_id=wide, box_x=0.1, box_y=0.1, box_w=0.2, box_h=0.2, score=0.9,
                     detector="test", state=FaceState.confirmed, person_id=person_id),
                Face(asset_id=wide, box_x=0.5, box_y=0.1, box_w=0.2, box_h=0.2, score=0.9,
                     detector="test", state=FaceState.unknown),
            ]
        )  # fmt: skip
        asset = session.exec(select(Asset).where(Asset.id == wide)).one()
        shape = f"ar-{round(asset.width * 10 / asset.height)}"
    log_in(client, officer)
    page = client.get(f"/people/{person_id}").text
    assert '<ul class="tiles" id="grid" data-total="1">' in page
    assert f'<li class="card {shape}">' in page and 'id="lightbox"' in page
    assert f'href="/assets/{wide}"' in page
    dashboard = client.get("/privacy").text
    assert '<ul class="tiles review-tiles">' in dashboard
    assert f'href="/privacy/review?asset={wide}"' in dashboard
    assert '<span class="card-snippet">1 gezicht te bekijken</span>' in dashboard


def test_a_group_is_named_as_the_person_picked_even_with_a_namesake(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    creative = make_account(Role.creative)
    asset_id = upload(client, creative, seed=82)
    with rt.unit_of_work() as session:
        first, second = Person(name="Lot Dubbel"), Person(name="Lot Dubbel")
        session.add_all([first, second])
        session.flush()
        faces = [
            Face(id=f"grp{n}", asset_id=asset_id, box_x=0.1 + n / 4, box_y=0.1, box_w=0.2,
                 box_h=0.2, score=0.9, detector="test", cluster_id="grp0")
            for n in range(2)
        ]  # fmt: skip
        session.add_all(faces)
        second_id = second.id
    token = log_in(client, creative)
    page = client.get("/people").text
    assert "<datalist" not in page and page.count("data-person-picker") == 2  # bar + group
    by_name = client.post(
        "/people/groups", data={"csrf_token": token, "cluster_ids": "grp0", "name": "Lot Dubbel"}
    )
    assert "Meerdere personen hebben deze naam." in by_name.text
    picked = client.post(
        "/people/groups",
        data={
            "csrf_token": token,
            "cluster_ids": "grp0",
            "name": "Lot Dubbel",
            "person_id": second_id,
        },
    )
    assert "2 gezichten bevestigd als Lot Dubbel." in picked.text
    with rt.session() as session:
        named = [session.get(Face, f"grp{n}") for n in range(2)]
    assert {(f.person_id, f.state) for f in named if f} == {(second_id, FaceState.confirmed)}
