"""The backend contract: the same tests against Tantivy and Meilisearch.

Tantivy always runs (it is embedded). Meilisearch runs when DAM_TEST_MEILI_URL points at
a server, e.g. `docker run -p 7700:7700 getmeili/meilisearch:v1.12` then
`DAM_TEST_MEILI_URL=http://127.0.0.1:7700 scripts/test -k search_backend`
(DAM_TEST_MEILI_KEY when it has a master key). Without one it is reported as skipped,
even under CI=true: no Meilisearch server exists on the machines CI runs on.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from search.backend import SearchBackend
from search.document import AssetFacts, PersonFacts, SearchDocument, build_document
from search.query import Access, Filters, SearchRequest, Sort, parse_query

MEILI_URL = os.environ.get("DAM_TEST_MEILI_URL")
MEILI_KEY = os.environ.get("DAM_TEST_MEILI_KEY")
PRIVILEGED = Access(restricted=True, hidden_people=True)


def at(year: int, month: int = 6, day: int = 1) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def asset(asset_id: str, title: str, **values: object) -> SearchDocument:
    fields: dict[str, object] = {
        "id": asset_id,
        "kind": "image",
        "status": "ready",
        "filename": f"{asset_id}.jpg",
        "created_at": at(2024, 1, int(asset_id[1:]) if asset_id[1:].isdigit() else 1),
        "title": title,
    }
    fields.update(values)
    return build_document(AssetFacts(**fields))  # type: ignore[arg-type]


CORPUS = [
    asset(
        "a1",
        "Fietsers op de Graslei in Gent",
        tags=("gent", "zomer"),
        taken_at=at(2023, 7),
        people=(PersonFacts("p1", "Jan Peeters"),),
        verdicts={"website": "cleared", "social": "blocked"},
        collections=("Zomer in Gent",),
        owner_id="u1",
    ),
    asset(
        "a2",
        "Fietsen in Brugge",
        kind="video",
        tags=("brugge", "zomer"),
        taken_at=at(2022, 8),
        verdicts={"website": "cleared", "social": "cleared"},
    ),
    asset(
        "a3",
        "Oude huis aan de Leie",
        description="Gent, een winterochtend aan het water.",
        tags=("gent", "winter"),
        taken_at=at(2021, 1),
        licence={"type": "stock"},
        owner_id="u1",
    ),
    asset(
        "a4",
        "A cyclist on the bridge",
        tags=("antwerpen",),
        alt_text="Cyclist, bridge",
        owner_id="u2",
    ),
    asset(
        "a5",
        "Wandelaars in het Citadelpark, Gent",
        tags=("gent",),
        taken_at=at(2023, 4),
        people=(PersonFacts("p2", "An Smets", hidden=True),),
    ),
    asset("a6", "Scan toestemmingsformulier Gent", restricted=True, tags=("gent",)),
    asset("a7", "Bomen langs de <Leie> & de Schelde", tags=("natuur",)),
]


def meili_backend() -> Iterator[SearchBackend]:
    from search.meili_backend import MeilisearchBackend

    if not MEILI_URL:
        pytest.skip(
            "Meilisearch contract not run: set DAM_TEST_MEILI_URL to a Meilisearch server "
            "(no Meilisearch server exists on this machine, so not even under CI=true)"
        )
    backend = MeilisearchBackend(MEILI_URL, api_key=MEILI_KEY, index=f"t_{secrets.token_hex(6)}")
    yield backend
    backend.client.delete_index(backend.uid)


@pytest.fixture(params=["tantivy", "meilisearch"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    if request.param == "meilisearch":
        yield from meili_backend()
        return
    from search.tantivy_backend import TantivyBackend

    yield TantivyBackend(tmp_path / "search")


def write(backend: SearchBackend, documents: Sequence[SearchDocument] = CORPUS) -> None:
    writer = backend.open_writer()
    try:
        writer.upsert(documents)
        writer.commit()
    finally:
        writer.close()


@pytest.fixture
def indexed(backend: SearchBackend) -> SearchBackend:
    write(backend)
    return backend


Find = Callable[..., list[str]]


@pytest.fixture
def find(indexed: SearchBackend) -> Find:
    def run(q: str = "", *, access: Access = Access(), sort: Sort = "relevance", **f: object):
        request = SearchRequest(
            query=parse_query(q), filters=Filters(**f), sort=sort, access=access, per_page=50
        )
        return sorted(h.id for h in indexed.search(request).hits)  # type: ignore[arg-type]

    return run


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("fietsers gent zomer", ["a1"]),
        ("fietsres gent zomer", ["a1"]),  # one typo (swapped letters) in an 8-letter word
        ("fietsrs gent ", ["a1"]),
        ("fitsres gent ", []),  # two typos: too many for 8 letters
        ("wndelaarz ", ["a5"]),  # two typos: fine from 9 letters
        ("gnt fietsers ", []),  # no typo in words under 5 letters
        ("zomre ", ["a1", "a2"]),
    ],
)
def test_typo_tolerance(find: Find, q: str, expected: list[str]) -> None:
    assert find(q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("fiet", ["a1", "a2"]),
        ("Fiets", ["a1", "a2"]),
        ("gent wand", ["a5"]),
        ("wand ", []),  # a finished word is not a prefix
        ("citadelp", ["a5"]),
    ],
)
def test_prefix_while_typing(find: Find, q: str, expected: list[str]) -> None:
    assert find(q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"graslei in gent"', ["a1"]),
        ('"gent in graslei"', []),
        ('"citadelpark gent" wandelaars', ["a5"]),
        ("gent -zomer ", ["a3", "a5"]),
        ('gent -"oude huis" ', ["a1", "a5"]),
    ],
)
def test_phrases_and_exclusions(find: Find, q: str, expected: list[str]) -> None:
    assert find(q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("huizen ", ["a3"]),  # Dutch plural finds the singular
        ("boom ", ["a7"]),  # ... and the other way round
        ("fietser ", ["a1", "a2"]),  # fietsers by stem; fietsen by one typo
        ("cyclists ", ["a4"]),  # English plural
        ("bridges ", ["a4"]),
    ],
)
def test_dutch_and_english_word_forms(find: Find, q: str, expected: list[str]) -> None:
    assert find(q) == expected


def test_words_match_in_every_text_field(find: Find) -> None:
    assert find("winterochtend ") == ["a3"]  # description
    assert find("natuur ") == ["a7"]  # tag
    assert find("peeters ") == ["a1"]  # a confirmed person's name
    assert find("a4 jpg") == ["a4"]  # file name


def test_facets_count_the_matching_assets(indexed: SearchBackend) -> None:
    result = indexed.search(SearchRequest(query=parse_query("gent "), per_page=1))
    assert result.total == 3
    assert result.facets["kind"] == {"image": 3}
    assert result.facets["tags"] == {"gent": 3, "zomer": 1, "winter": 1}
    assert result.facets["year"] == {"2023": 2, "2021": 1}
    assert result.facets["people"] == {"Jan Peeters": 1}
    assert result.facets["collections"] == {"Zomer in Gent": 1}
    assert result.facets["cleared_for"] == {"website": 1}
    assert result.facets["licence"] == {"none": 2, "stock": 1}
    everything = indexed.search(SearchRequest())
    assert everything.facets["cleared_for"] == {"website": 2, "social": 1}
    assert everything.facets["kind"] == {"image": 5, "video": 1}


def test_filters(find: Find) -> None:
    assert find(kinds=("video",)) == ["a2"]
    assert find(kinds=("video", "image"), years=(2023,)) == ["a1", "a5"]
    assert find(years=(2021, 2022)) == ["a2", "a3"]
    assert find(tags=("gent", "zomer")) == ["a1"]  # every tag must hold
    assert find(cleared_for=("website",)) == ["a1", "a2"]
    assert find(cleared_for=("website", "social")) == ["a2"]
    assert find(people=("p1",)) == ["a1"]
    assert find(people=("Jan Peeters",)) == ["a1"]
    assert find(collections=("Zomer in Gent",)) == ["a1"]
    assert find(licences=("stock",)) == ["a3"]
    assert find("gent ", tags=("winter",)) == ["a3"]


def test_uploader_filter_combines_with_words(find: Find) -> None:
    assert find(uploaders=("u1",)) == ["a1", "a3"]
    assert find("gent ", uploaders=("u1",)) == ["a1", "a3"]
    assert find("fietsers ", uploaders=("u1",)) == ["a1"]
    assert find("cyclist ", uploaders=("u1",)) == []
    assert find(uploaders=("u1", "u2")) == ["a1", "a3", "a4"]
    assert find(uploaders=("nobody",)) == []


def test_sorting(indexed: SearchBackend) -> None:
    def ids(sort: Sort) -> list[str]:
        request = SearchRequest(sort=sort, per_page=50)
        return [h.id for h in indexed.search(request).hits]

    assert ids("taken_desc")[:4] == ["a1", "a5", "a2", "a3"]
    assert ids("taken_asc")[:4] == ["a3", "a2", "a5", "a1"]
    assert set(ids("taken_asc")[4:]) == {"a4", "a7"}  # unknown capture dates come last
    assert ids("uploaded_desc") == ["a7", "a5", "a4", "a3", "a2", "a1"]
    assert ids("uploaded_asc") == ["a1", "a2", "a3", "a4", "a5", "a7"]


def test_relevance_puts_title_matches_first(indexed: SearchBackend) -> None:
    hits = indexed.search(SearchRequest(query=parse_query("leie "))).hits
    assert [h.id for h in hits][:2] in (["a3", "a7"], ["a7", "a3"])
    exact = indexed.search(SearchRequest(query=parse_query("fietsers "))).hits
    assert exact[0].id == "a1"


def test_pagination(indexed: SearchBackend) -> None:
    pages = [
        indexed.search(SearchRequest(sort="uploaded_asc", page=p, per_page=2)) for p in (1, 2, 4)
    ]
    assert [h.id for h in pages[0].hits] == ["a1", "a2"]
    assert [h.id for h in pages[1].hits] == ["a3", "a4"]
    assert pages[2].hits == []
    assert {p.total for p in pages} == {6}


def test_highlights(indexed: SearchBackend) -> None:
    hit = indexed.search(SearchRequest(query=parse_query("fietsres gent"))).hits[0]
    assert hit.id == "a1"
    assert hit.title == "Fietsers op de Graslei in Gent"
    assert hit.highlights["title"] == "<mark>Fietsers</mark> op de Graslei in <mark>Gent</mark>"
    assert hit.highlights["tags"] == "<mark>gent</mark> · zomer"
    escaped = indexed.search(SearchRequest(query=parse_query("schelde "))).hits[0]
    assert escaped.highlights["title"] == (
        "Bomen langs de &lt;Leie&gt; &amp; de <mark>Schelde</mark>"
    )


def test_restricted_material_only_for_roles_that_may_open_it(find: Find) -> None:
    assert "a6" not in find("scan ")
    assert "a6" not in find(tags=("gent",))
    assert find("toestemmingsformulier ", access=PRIVILEGED) == ["a6"]


def test_hidden_people_are_not_searchable_by_name(indexed: SearchBackend, find: Find) -> None:
    assert find("smets ") == []
    assert find(people=("p2",)) == [] and find(people=("An Smets",)) == []
    assert find("smets ", access=PRIVILEGED) == ["a5"]
    assert find(people=("p2",), access=PRIVILEGED) == ["a5"]
    plain = indexed.search(SearchRequest(query=parse_query("wandelaars ")))
    assert plain.facets["people"] == {}
    assert "Smets" not in repr(plain)
    privileged = indexed.search(SearchRequest(query=parse_query("smets "), access=PRIVILEGED))
    assert privileged.facets["people"] == {"An Smets": 1}
    assert privileged.hits[0].highlights["people"] == "An <mark>Smets</mark>"


def test_upsert_replaces_and_delete_removes(indexed: SearchBackend, find: Find) -> None:
    write(indexed, [asset("a1", "Markt in Brugge", tags=("brugge",))])
    assert find("graslei ") == []
    assert find("markt ") == ["a1"]
    assert indexed.count() == len(CORPUS)
    writer = indexed.open_writer()
    writer.delete(["a1", "a2", "missing"])
    writer.commit()
    writer.close()
    assert find("brugge ") == []
    assert indexed.count() == len(CORPUS) - 2


def test_fingerprints_tell_what_is_indexed(indexed: SearchBackend) -> None:
    assert indexed.fingerprints() == {d.id: d.fingerprint for d in CORPUS}


def test_rebuild_replaces_everything_at_once(indexed: SearchBackend, find: Find) -> None:
    done: list[int] = []
    writer = indexed.open_writer()
    written = writer.rebuild(iter([asset("b1", "Nieuw begin in Gent")]), done.append)
    writer.close()
    assert written == 1 and done[-1] == 1
    assert indexed.fingerprints().keys() == {"b1"}
    assert find("gent ") == ["b1"]


def test_empty_query_lists_everything_newest_first(indexed: SearchBackend) -> None:
    result = indexed.search(SearchRequest(sort="uploaded_desc"))
    assert result.total == 6 and result.hits[0].id == "a7"
    assert all(h.highlights == {} for h in result.hits)


def purge(
    backend: SearchBackend,
    ids: Sequence[str],
    current: Sequence[SearchDocument],
    asked_for: list[str] | None = None,
) -> int:
    by_id = {d.id: d for d in current}

    def documents(asked: Sequence[str]) -> tuple[list[SearchDocument], list[str]]:
        if asked_for is not None:
            asked_for.extend(asked)
        return [by_id[i] for i in asked if i in by_id], [i for i in asked if i not in by_id]

    writer = backend.open_writer()
    try:
        return writer.purge(ids, documents)
    finally:
        writer.close()


def test_purge_writes_the_current_documents(indexed: SearchBackend, find: Find) -> None:
    current = [asset("a1", "Markt in Brugge"), *CORPUS[2:]]  # a2 is gone
    assert purge(indexed, ["a1", "a2"], current) >= 1
    assert find("graslei ") == [] and find("markt ") == ["a1"]
    assert indexed.fingerprints() == {d.id: d.fingerprint for d in current}


SECRET = "Zyxwvut Qprstoñ"


def segment_ids(path: Path) -> set[str]:
    return {s["segment_id"] for s in json.loads((path / "meta.json").read_text())["segments"]}


def holding(path: Path, word: str) -> list[str]:
    word_bytes = word.lower().encode()
    return [p.name for p in path.iterdir() if p.is_file() and word_bytes in p.read_bytes().lower()]


def test_tantivy_purge_empties_only_the_segments_with_older_copies(tmp_path: Path) -> None:
    from search.tantivy_backend import TantivyBackend, to_json

    backend = TantivyBackend(tmp_path / "search")

    def commit_one_segment(docs: Sequence[SearchDocument], deleted: Sequence[str] = ()) -> None:
        # One indexing thread: each commit makes exactly one segment.
        writer = backend.index.writer(heap_size=15_000_000, num_threads=1)
        for asset_id in [*(d.id for d in docs), *deleted]:
            writer.delete_documents_by_term("id", asset_id)
        for document in docs:
            writer.add_json(to_json(document))
        writer.commit()
        writer.wait_merging_threads()

    commit_one_segment(CORPUS)
    untouched = segment_ids(backend.path)
    anna = (PersonFacts("p1", "Anna Peeters"),)
    others = [asset(f"b{i}", f"Portret nummer {i}", people=anna) for i in range(2, 6)]
    commit_one_segment([asset("b1", "Portret", people=(PersonFacts("p9", SECRET),)), *others])
    # The person is unlinked from b1 (its older version stays in its segment's files),
    # and b2 is deleted: a purge finds both, not only the documents it is given.
    commit_one_segment([asset("b1", "Portret")], deleted=["b2"])
    assert holding(backend.path, "Zyxwvut")
    current = [*CORPUS, asset("b1", "Portret"), *others[1:]]

    asked: list[str] = []
    assert purge(backend, ["b1"], current, asked) == 4  # and b3, b4 and b5, which shared
    # the old b1's segment: those as the index holds them, not built from the database
    assert asked == ["b1"]
    assert holding(backend.path, "Zyxwvut") == []
    assert untouched <= segment_ids(backend.path)  # the corpus's segment was left alone
    assert backend.fingerprints() == {d.id: d.fingerprint for d in current}
    request = SearchRequest(query=parse_query("portret "), access=PRIVILEGED, per_page=50)
    assert backend.search(request).total == len(current) - len(CORPUS)
    # The re-added documents are found, filtered and shown as before.
    found = backend.search(SearchRequest(query=parse_query("anna nummer "), access=PRIVILEGED))
    assert sorted(h.id for h in found.hits) == ["b3", "b4", "b5"]
    assert found.facets["people"] == {"Anna Peeters": 3}
    assert found.hits[0].highlights["people"]
