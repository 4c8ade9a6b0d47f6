"""GET /api/v1/search through the real app: uploads are processed, indexed and found."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from dam.models import Role
from dam.runtime import Runtime
from search import facts
from search.service import service_for
from tests import media
from tests.conftest import Account

LIBRARY = [
    ("Fietsers op de Graslei in Gent", "gent, zomer, fietsen"),
    ("Fietsen langs de Reie in Brugge", "brugge, zomer"),
    ("Oude huis aan de Leie", "gent, winter"),
    ("A cyclist crossing the bridge", "antwerpen"),
]


def upload(client: TestClient, account: Account, seed: int, title: str, tags: str) -> str:
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (f"{seed}.jpg", media.jpeg(320, 240, seed=seed), "image/jpeg")},
        data={"title": title, "tags": tags},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
def library(client: TestClient, creative: Account, rt: Runtime) -> dict[str, str]:
    ids = {
        title: upload(client, creative, n + 1, title, tags)
        for n, (title, tags) in enumerate(LIBRARY)
    }
    assert service_for(rt).sync.flush()
    return ids


def search(client: TestClient, account: Account, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", headers=account.headers, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def titles(body: dict[str, Any]) -> list[str]:
    return sorted(hit["title"] for hit in body["hits"])


def test_dutch_query_with_a_typo(
    client: TestClient, creative: Account, library: dict[str, str]
) -> None:
    body = search(client, creative, q="fietsres gent zomer")
    assert body["total"] == 1
    (hit,) = body["hits"]
    asset_id = library["Fietsers op de Graslei in Gent"]
    assert hit == {
        "id": asset_id,
        "kind": "image",
        "title": "Fietsers op de Graslei in Gent",
        "thumbnail_url": f"/api/v1/assets/{asset_id}/renditions/thumb",
        "highlights": {
            "title": "<mark>Fietsers</mark> op de Graslei in <mark>Gent</mark>",
            "tags": "fietsen · <mark>gent</mark> · <mark>zomer</mark>",
        },
    }
    thumb = client.get(hit["thumbnail_url"], headers=creative.headers)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"


def test_prefix_while_typing(
    client: TestClient, creative: Account, library: dict[str, str]
) -> None:
    assert titles(search(client, creative, q="fiet")) == [
        "Fietsen langs de Reie in Brugge",
        "Fietsers op de Graslei in Gent",
    ]
    assert titles(search(client, creative, q="cyclists ")) == ["A cyclist crossing the bridge"]


def test_facets_filters_sort_and_pages(
    client: TestClient, creative: Account, library: dict[str, str]
) -> None:
    body = search(client, creative, per_page=2, sort="uploaded_asc")
    assert body["total"] == 4 and (body["page"], body["per_page"]) == (1, 2)
    assert [h["title"] for h in body["hits"]] == [LIBRARY[0][0], LIBRARY[1][0]]
    assert body["facets"]["kind"] == {"image": 4}
    assert body["facets"]["tags"]["gent"] == 2 and body["facets"]["tags"]["zomer"] == 2
    assert set(body["facets"]) == {
        "kind",
        "year",
        "tags",
        "people",
        "collections",
        "cleared_for",
        "licence",
    }
    second = search(client, creative, per_page=2, page=2, sort="uploaded_asc")
    assert [h["title"] for h in second["hits"]] == [LIBRARY[2][0], LIBRARY[3][0]]
    narrowed = search(client, creative, tag=["gent", "winter"])
    assert titles(narrowed) == ["Oude huis aan de Leie"]
    assert search(client, creative, kind="video")["total"] == 0


def test_the_index_follows_edits_and_deletions(
    client: TestClient, creative: Account, library: dict[str, str], rt: Runtime
) -> None:
    asset_id = library["Oude huis aan de Leie"]
    edited = client.patch(
        f"/api/v1/assets/{asset_id}", headers=creative.headers, json={"title": "Belfort bij nacht"}
    )
    assert edited.status_code == 200
    assert service_for(rt).sync.flush()
    assert titles(search(client, creative, q="belfort ")) == ["Belfort bij nacht"]
    deleted = client.delete(f"/api/v1/assets/{asset_id}", headers=creative.headers)
    assert deleted.status_code == 204
    assert search(client, creative, q="belfort ")["total"] == 0  # at once, no waiting


Provided = Mapping[str, Mapping[str, Any]]


@pytest.fixture
def provide(rt: Runtime) -> Iterator[Callable[[Provided], None]]:
    """Stand in for the consent and faces packages through the real provider hook."""
    given: dict[str, Mapping[str, Any]] = {}

    def provider(session: Session, asset_ids: Sequence[str]) -> Provided:
        return {i: given[i] for i in asset_ids if i in given}

    rt.wiring.extend(facts.FACTS, "test", provider)

    def set_facts(values: Provided) -> None:
        given.update(values)
        service_for(rt).sync.mark(values)
        assert service_for(rt).sync.flush()

    yield set_facts
    rt.wiring.withdraw(facts.FACTS, "test")


def test_cleared_for_filter_and_facet(
    client: TestClient,
    creative: Account,
    library: dict[str, str],
    provide: Callable[[Provided], None],
) -> None:
    gent, brugge = library[LIBRARY[0][0]], library[LIBRARY[1][0]]
    provide(
        {
            gent: {"verdicts": {"website": "cleared", "social": "blocked"}},
            brugge: {"verdicts": {"website": "cleared", "social": "cleared"}},
        }
    )
    body = search(client, creative, q="fiets")
    assert body["facets"]["cleared_for"] == {"website": 2, "social": 1}
    cleared = search(client, creative, q="fiets", cleared_for="social")
    assert titles(cleared) == [LIBRARY[1][0]]
    both = search(client, creative, cleared_for=["website", "social"])
    assert both["total"] == 1


def test_roles_decide_restricted_material_and_hidden_people(
    client: TestClient,
    make_account: Callable[[Role], Account],
    library: dict[str, str],
    provide: Callable[[Provided], None],
) -> None:
    scan, photo = library[LIBRARY[2][0]], library[LIBRARY[0][0]]
    provide(
        {
            scan: {"restricted": True},
            photo: {"people": [{"id": "p9", "name": "An Smets", "hidden": True}]},
        }
    )
    viewer, officer = make_account(Role.viewer), make_account(Role.privacy_officer)
    assert search(client, viewer, q="leie ")["total"] == 0
    assert search(client, viewer, tag="winter")["total"] == 0
    assert search(client, viewer)["total"] == 3
    assert search(client, viewer, q="smets ")["total"] == 0
    assert search(client, viewer, person="p9")["total"] == 0
    assert "An Smets" not in str(search(client, viewer, q="graslei"))
    assert titles(search(client, officer, q="leie ")) == [LIBRARY[2][0]]
    found = search(client, officer, q="smets ")
    assert titles(found) == [LIBRARY[0][0]]
    assert found["facets"]["people"] == {"An Smets": 1}
    assert search(client, officer, person="p9")["total"] == 1


def test_bad_input_and_credentials(client: TestClient, creative: Account) -> None:
    assert client.get("/api/v1/search").status_code == 401
    bad = client.get("/api/v1/search", headers=creative.headers, params={"sort": "random"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    too_many = client.get("/api/v1/search", headers=creative.headers, params={"per_page": 500})
    assert too_many.status_code == 422
    empty = search(client, creative, q='"" - ,')
    assert empty["total"] == 0 and empty["hits"] == []
