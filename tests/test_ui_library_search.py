"""The library page as a search page over HTTP (no scripts): words, highlights, facets,
the "cleared for" channel filter, suggestions when nothing is found, roles, the
fragments the instant search fetches, and previous/next through a search's results."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from dam.models import Role
from dam.runtime import Runtime
from search import facts
from search.service import service_for
from tests.conftest import Account
from tests.feed_factories import make_asset
from tests.ui_client import log_in

LIBRARY = [
    ("Fietsers op de Graslei in Gent", "gent, zomer, fietsen"),
    ("Fietsen langs de Reie in Brugge", "brugge, zomer"),
    ("Oude huis aan de Leie", "gent, winter"),
    ("<script>alert('x')</script> Belfort van Gent", "gent, nacht"),
]

Provided = Mapping[str, Mapping[str, Any]]


def tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",")]


@pytest.fixture
def library(client: TestClient, creative: Account, rt: Runtime) -> dict[str, str]:
    """The photos as ingest leaves them, through the services (this file is about the
    page, not the upload)."""
    ids = {title: make_asset(rt, title, owner=creative.user, tags=tags(t)) for title, t in LIBRARY}
    assert service_for(rt).sync.flush()
    log_in(client, creative)
    return ids


@pytest.fixture
def provide(rt: Runtime) -> Iterator[Callable[[Provided], None]]:
    """Stand in for the consent package through the real facts-provider hook."""
    given: dict[str, Mapping[str, Any]] = {}

    def provider(session: Session, asset_ids: Sequence[str]) -> Provided:
        return {i: given[i] for i in asset_ids if i in given}

    rt.wiring.extend(facts.FACTS, "test-ui", provider)

    def set_facts(values: Provided) -> None:
        given.update(values)
        service_for(rt).sync.mark(values)
        assert service_for(rt).sync.flush()

    yield set_facts
    rt.wiring.withdraw(facts.FACTS, "test-ui")


def card_titles(page: str) -> list[str]:
    """What each card's title says, marks removed."""
    found = re.findall(r'<span class="card-title">(.*?)</span>', page, re.S)
    return [html.unescape(re.sub(r"</?mark>", "", t)) for t in found]


def facet(page: str, param: str) -> dict[str, int]:
    """The sidebar's check boxes of one facet: value -> count."""
    found = re.findall(
        rf'name="{param}" value="([^"]*)".*?<span class="count">([\d.]+)</span>', page, re.S
    )
    return {html.unescape(v): int(c.replace(".", "")) for v, c in found}


def test_sloppy_words_find_and_mark_the_match(client: TestClient, library: dict[str, str]) -> None:
    page = client.get("/", params={"q": "fietsrs gent"}).text
    assert card_titles(page) == ["Fietsers op de Graslei in Gent"]
    marked = "<mark>Fietsers</mark> op de Graslei in <mark>Gent</mark>"
    assert f'<span class="card-title">{marked}</span>' in page
    assert "1 resultaat" in page
    assert 'value="fietsrs gent"' in page  # the words stay in the box
    # Ranked by relevance while there are words; the sort offers it.
    assert re.search(r'<option value="" selected>beste overeenkomst</option>', page)


def test_titles_are_escaped_around_the_marks(client: TestClient, library: dict[str, str]) -> None:
    page = client.get("/", params={"q": "belfort"}).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; <mark>Belfort</mark> van Gent" in page


def test_facets_count_and_narrow(client: TestClient, library: dict[str, str]) -> None:
    browse = client.get("/").text
    # Plain browsing reads the database, and the sidebar still counts what is there.
    assert len(card_titles(browse)) == 4
    assert facet(browse, "tag")["gent"] == 3 and facet(browse, "tag")["zomer"] == 2
    assert facet(browse, "kind") == {"image": 4}
    assert "Trefwoorden" in browse and "Soort" in browse
    narrowed = client.get("/?tag=gent&tag=zomer").text
    assert card_titles(narrowed) == ["Fietsers op de Graslei in Gent"]
    tags = facet(narrowed, "tag")
    assert tags["gent"] == 1 and tags["zomer"] == 1
    assert re.search(r'name="tag" value="gent" form="library-search" checked', narrowed)
    words_and_tag = client.get("/?q=fietsen&tag=brugge").text
    assert card_titles(words_and_tag) == ["Fietsen langs de Reie in Brugge"]


def test_cleared_for_channel_filter(
    client: TestClient, library: dict[str, str], provide: Callable[[Provided], None]
) -> None:
    gent, brugge = library[LIBRARY[0][0]], library[LIBRARY[1][0]]
    provide(
        {
            gent: {"verdicts": {"website": "cleared", "social": "blocked"}},
            brugge: {"verdicts": {"website": "cleared", "social": "cleared"}},
        }
    )
    page = client.get("/", params={"q": "fiets"}).text
    assert '<option value="website">website (2)</option>' in page
    assert '<option value="social">sociale media (1)</option>' in page
    assert '<option value="press">pers (0)</option>' in page
    social = client.get("/", params={"q": "fiets", "cleared_for": "social"}).text
    assert card_titles(social) == ["Fietsen langs de Reie in Brugge"]
    # The counts beside each channel stay those of choosing that channel instead.
    assert '<option value="social" selected>sociale media (1)</option>' in social
    assert '<option value="website">website (2)</option>' in social


def test_nothing_found_suggests_what_does_find(client: TestClient, library: dict[str, str]) -> None:
    page = client.get("/", params={"q": "fietsers", "tag": "winter"}).text
    assert card_titles(page) == [] and "Niets gevonden." in page
    assert '<a href="/?q=fietsers">Zonder de filter winter</a>' in page
    fewer = client.get("/", params={"q": "graslei zeppelin"}).text
    assert '<a href="/?q=graslei">Zoeken naar graslei</a>' in fewer
    # Two typos in a seven-letter word are past the search's tolerance; the tags know it.
    spelling = client.get("/", params={"q": "zoemmer"}).text
    assert 'Bedoelde je <a href="/?q=zomer">zomer</a>?' in spelling
    nothing_near = client.get("/", params={"q": "qwxzvk"}).text
    assert "Veelgebruikte trefwoorden" in nothing_near
    assert '<a href="/?tag=gent">gent</a>' in nothing_near


def test_roles_decide_what_the_page_finds(
    client: TestClient,
    make_account: Callable[[Role], Account],
    library: dict[str, str],
    provide: Callable[[Provided], None],
) -> None:
    provide({library[LIBRARY[2][0]]: {"restricted": True}})
    log_in(client, make_account(Role.viewer))
    assert card_titles(client.get("/", params={"q": "leie"}).text) == []
    log_in(client, make_account(Role.privacy_officer))
    assert card_titles(client.get("/", params={"q": "leie"}).text) == ["Oude huis aan de Leie"]


def test_fragments_for_the_instant_search(
    client: TestClient, library: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    results = client.get("/", params={"q": "gent ", "fragment": "results"})
    assert results.status_code == 200
    body = results.text.lstrip()
    start = '<div class="library-body" data-count="3 resultaten" data-url="/?q=gent">'
    assert body.startswith(start)
    assert "<html" not in body and 'id="library-search"' not in body
    monkeypatch.setattr("web.ui.listing.PER_PAGE", 2)
    cards = client.get("/", params={"q": "gent", "fragment": "1"})
    assert cards.text.count('<li class="card ') == 2 and "<mark>" in cards.text
    assert cards.headers["x-next-page"] == "/?q=gent&page=2"
    rest = client.get("/?q=gent&page=2&fragment=1")
    assert rest.text.count('<li class="card ') == 1 and "x-next-page" not in rest.headers


def test_the_asset_page_walks_the_search_results(
    client: TestClient, library: dict[str, str]
) -> None:
    page = client.get("/", params={"q": "fiets", "sort": "newest"}).text
    links = re.findall(r'class="card-link" href="([^"]+)"', page)
    assert len(links) == 2
    first = client.get(html.unescape(links[0])).text
    assert "1 van 2" in first
    assert html.escape(html.unescape(links[1])) in first  # "next" leads to the second hit


def test_only_my_uploads_works_with_words_and_facets(
    client: TestClient,
    creative: Account,
    make_account: Callable[[Role], Account],
    library: dict[str, str],
    rt: Runtime,
) -> None:
    other = make_account(Role.creative)
    make_asset(rt, "Fietsers aan de Korenmarkt in Gent", owner=other.user, tags=["gent", "winter"])
    assert service_for(rt).sync.flush()
    everyone = client.get("/", params={"q": "fietsers gent"}).text
    assert sorted(card_titles(everyone)) == [
        "Fietsers aan de Korenmarkt in Gent",
        "Fietsers op de Graslei in Gent",
    ]
    mine = client.get("/", params={"q": "fietsers gent", "mine": "1"}).text
    assert card_titles(mine) == ["Fietsers op de Graslei in Gent"]
    # The box stays ticked while searching, and the facets count what "mine" leaves.
    assert re.search(r'id="mine" name="mine" type="checkbox" value="1" [^>]*checked', mine)
    assert facet(mine, "tag") == {"gent": 1, "zomer": 1, "fietsen": 1}
    assert facet(client.get("/?q=gent&mine=1").text, "tag")["gent"] == 3
    assert card_titles(client.get("/?q=gent&tag=winter&mine=1").text) == ["Oude huis aan de Leie"]
    # The address carries it (the instant search pushes it; back and forward restore it),
    # and so do the next page, the asset page's previous/next and "clear this filter".
    fragment = client.get("/", params={"q": "gent", "mine": "1", "fragment": "results"})
    assert 'data-url="/?q=gent&amp;mine=1"' in fragment.text
    links = re.findall(r'class="card-link" href="([^"]+)"', fragment.text)
    assert len(links) == 3 and all("mine=1" in html.unescape(link) for link in links)
    first = client.get(html.unescape(links[0])).text
    assert "1 van 3" in first
    wider = client.get("/", params={"q": "fietsers", "tag": "winter", "mine": "1"}).text
    assert "Niets gevonden." in wider
    assert '<a href="/?q=fietsers&amp;mine=1">Zonder de filter winter</a>' in wider
    # The other uploader, with the same words, finds only theirs.
    log_in(client, other)
    theirs = client.get("/", params={"q": "fietsers gent", "mine": "1"}).text
    assert card_titles(theirs) == ["Fietsers aan de Korenmarkt in Gent"]


def test_bad_parameters_fall_back(client: TestClient, library: dict[str, str]) -> None:
    page = client.get("/?year=20x4&kind=sculpture&sort=random&q=" + "gent%20" * 300)
    assert page.status_code == 200
    assert len(card_titles(page.text)) == 3
