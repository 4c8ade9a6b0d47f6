"""Pure search cores, table-driven: words and typo budgets, query parsing, the search
document, highlighting, and the Meilisearch request building."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dam.assets import may_see_restricted
from dam.models import User
from search.analysis import edit_distance, prefix_distance, stem, typo_budget, words
from search.document import AssetFacts, PersonFacts, build_document, licence_state, orientation
from search.highlight import Matcher, highlight_fields, render
from search.meili_backend import filter_expression, meili_document, query_text, search_params
from search.query import Access, Filters, ParsedQuery, SearchRequest, Word, parse_query
from search.service import access_for

MOMENT = datetime(2024, 7, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fietsers op de Graslei", ["fietsers", "op", "de", "graslei"]),
        ("Café-terras, Gent!", ["cafe", "terras", "gent"]),
        ("IMG_2023_gent.jpg", ["img", "2023", "gent", "jpg"]),
        ("naïef Ørsted", ["naief", "orsted"]),
        ("", []),
    ],
)
def test_words_are_cut_and_folded(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("word", "language", "expected"),
    [
        ("fietsers", "dutch", "fietser"),
        ("huizen", "dutch", "huis"),
        ("bomen", "dutch", "boom"),
        ("cyclists", "english", "cyclist"),
        ("running", "english", "run"),
    ],
)
def test_snowball_stems(word: str, language: str, expected: str) -> None:
    assert stem(word, language) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("word", "budget"),
    [("gent", 0), ("zomer", 1), ("fietsers", 1), ("wandelaar", 2), ("wandelaars", 2), ("", 0)],
)
def test_typo_budget_follows_meilisearch_defaults(word: str, budget: int) -> None:
    assert typo_budget(word) == budget


@pytest.mark.parametrize(
    ("a", "b", "limit", "distance"),
    [
        ("fietsers", "fietsers", 2, 0),
        ("fietsres", "fietsers", 2, 1),  # a swap of neighbours is one typo
        ("fietsrs", "fietsers", 2, 1),
        ("zomer", "zomre", 1, 1),
        ("gent", "brugge", 2, 3),  # capped at limit + 1
        ("kat", "katten", 1, 2),
    ],
)
def test_edit_distance(a: str, b: str, limit: int, distance: int) -> None:
    assert edit_distance(a, b, limit) == distance


@pytest.mark.parametrize(
    ("prefix", "word", "distance"),
    [
        ("fiet", "fietsers", 0),
        ("fiets", "fietsers", 0),
        ("fietz", "fietsers", 1),
        ("xyz", "gent", 2),
    ],
)
def test_prefix_distance(prefix: str, word: str, distance: int) -> None:
    assert prefix_distance(prefix, word, 1) == distance


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ParsedQuery()),
        (
            "fietsers gent zomer",
            ParsedQuery(words=(Word("fietsers"), Word("gent"), Word("zomer", prefix=True))),
        ),
        ("fietsers gent ", ParsedQuery(words=(Word("fietsers"), Word("gent")))),
        ("Fiet", ParsedQuery(words=(Word("fiet", prefix=True),))),
        ('"Graslei in Gent"', ParsedQuery(phrases=(("graslei", "in", "gent"),))),
        ('"graslei gent', ParsedQuery(phrases=(("graslei", "gent"),))),  # unclosed: to the end
        (
            'gent -zomer -"oude huizen"',
            ParsedQuery(words=(Word("gent"),), excluded=(("zomer",), ("oude", "huizen"))),
        ),
        ("e-bike", ParsedQuery(words=(Word("e"), Word("bike", prefix=True)))),
        ('zomer "gent"', ParsedQuery(words=(Word("zomer"),), phrases=(("gent",),))),
        ("- , !", ParsedQuery()),
    ],
)
def test_parse_query(text: str, expected: ParsedQuery) -> None:
    assert parse_query(text) == expected


def test_parse_query_reads_at_most_ten_words() -> None:
    parsed = parse_query(" ".join(f"woord{i}" for i in range(15)))
    assert len(parsed.words) == 10
    assert parsed.words[-1].prefix is False  # the word being typed was cut off


def facts(**overrides: object) -> AssetFacts:
    values: dict[str, object] = {
        "id": "a1",
        "kind": "image",
        "status": "ready",
        "filename": "IMG_0001.jpg",
        "created_at": MOMENT,
        "title": " Fietsers op de Graslei ",
        "tags": ("gent", "zomer", "gent"),
        "width": 4000,
        "height": 3000,
    }
    values.update(overrides)
    return AssetFacts(**values)  # type: ignore[arg-type]


PEOPLE = (
    PersonFacts("p1", "Jan Peeters"),
    PersonFacts("p2", "An Smets", hidden=True),
    PersonFacts("p3", "Erased Person", erased=True),
    PersonFacts("p4", "Maybe Someone", state="suggested"),
    PersonFacts("p5", "Not A Face", state="dismissed"),
)


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({}, "title", "Fietsers op de Graslei"),
        ({}, "tags", ("gent", "zomer")),
        ({}, "orientation", "landscape"),
        ({"width": None}, "orientation", ""),
        ({}, "year", None),
        ({}, "uploaded_date", "2024-07-14"),
        ({}, "licence", "none"),
        ({}, "people", ()),
        ({}, "collections", ()),
        ({}, "cleared_for", ()),
        ({}, "restricted", False),
        ({}, "uploader", ""),
        ({"owner_id": "u1"}, "uploader", "u1"),
        ({"people": PEOPLE}, "people", ("Jan Peeters",)),
        ({"people": PEOPLE}, "person_ids", ("p1",)),
        ({"people": PEOPLE}, "hidden_people", ("An Smets",)),
        ({"people": PEOPLE}, "hidden_person_ids", ("p2",)),
        (
            {"verdicts": {"website": "cleared", "social": "blocked", "intranet": "cleared"}},
            "cleared_for",
            ("intranet", "website"),
        ),
        (
            {"verdicts": {"website": "cleared", "social": "review"}},
            "verdicts",
            (("social", "review"), ("website", "cleared")),
        ),
        ({"licence": {"type": "Stock", "expires": "2030-01-01"}}, "licence", "stock"),
        ({"licence": {"note": "ask"}}, "licence", "recorded"),
        ({"licence": {"type": "stock"}, "licence_state": "expired"}, "licence", "expired"),
        ({"collections": ("Zomer 2024", "Zomer 2024 ")}, "collections", ("Zomer 2024",)),
        ({"restricted": True}, "restricted", True),
        # Half past eleven on New Year's Eve in Ghent is still the old year there.
        (
            {"taken_at": datetime(2023, 12, 31, 22, 30, tzinfo=UTC), "taken_at_offset_min": 60},
            "year",
            2023,
        ),
        ({"taken_at": datetime(2023, 12, 31, 23, 30, tzinfo=UTC)}, "taken_date", "2024-01-01"),
        (
            {"taken_at": datetime(2023, 12, 31, 23, 30, tzinfo=UTC), "taken_at_offset_min": -300},
            "taken_date",
            "2023-12-31",
        ),
        ({"taken_at": datetime(2020, 1, 1, tzinfo=UTC)}, "taken_ts", 1577836800),
    ],
)
def test_build_document(overrides: dict[str, object], field: str, expected: object) -> None:
    assert getattr(build_document(facts(**overrides)), field) == expected


def test_erased_people_leave_no_trace_in_the_document() -> None:
    document = build_document(facts(people=PEOPLE))
    flat = repr(document)
    assert "Erased" not in flat and "p3" not in flat
    assert "Maybe Someone" not in flat  # suggestions are not identifications


def test_fingerprint_changes_with_the_content_only() -> None:
    first = build_document(facts())
    assert first.fingerprint == build_document(facts()).fingerprint
    assert first.fingerprint != build_document(facts(title="Anders")).fingerprint
    assert first.fingerprint != build_document(facts(verdicts={"web": "cleared"})).fingerprint


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(3, 2, "landscape"), (2, 3, "portrait"), (5, 5, "square"), (0, 5, ""), (None, None, "")],
)
def test_orientation(width: int | None, height: int | None, expected: str) -> None:
    assert orientation(width, height) == expected


def test_licence_state_prefers_what_the_licence_package_decided() -> None:
    assert licence_state({}, None) == "none"
    assert licence_state({}, "valid") == "valid"


@pytest.mark.parametrize(
    ("query", "token", "matches"),
    [
        ("fietsres gent ", "fietsers", True),  # one typo in 8 letters
        ("fietsres gent ", "gent", True),
        ("gnt zomer ", "gent", False),  # no typo below 5 letters
        ("fiet", "fietsers", True),  # the word being typed
        ("fiet ", "fietsers", False),  # ... not once a space followed
        ("huizen ", "huis", True),  # the same Dutch stem
        ("cyclists ", "cyclist", True),  # the same English stem
        ('"graslei gent"', "graslei", True),
        ('"graslei gent"', "grasleien", False),
        ("wndelaarz ", "wandelaars", True),  # two typos in 9+ letters
    ],
)
def test_matcher(query: str, token: str, matches: bool) -> None:
    assert Matcher(parse_query(query))(token) is matches


def test_highlights_mark_matches_and_escape_the_rest() -> None:
    result = highlight_fields(
        {"title": "Fietsers <b>op</b> de Graslei", "description": "Niets hier", "tags": "gent"},
        parse_query("fietsres graslei "),
    )
    assert result == {
        "title": "<mark>Fietsers</mark> &lt;b&gt;op&lt;/b&gt; de <mark>Graslei</mark>"
    }


def test_long_text_is_cropped_around_the_first_match() -> None:
    text = "Lorem ipsum " * 30 + "met fietsers aan de Leie " + "dolor sit " * 30
    shown = render(text, [(text.index("fietsers"), text.index("fietsers") + 8)])
    assert shown.startswith("…") and shown.endswith("…")
    assert "<mark>fietsers</mark>" in shown
    assert len(shown) < 300


def test_no_query_no_highlights() -> None:
    assert highlight_fields({"title": "Gent"}, parse_query("")) == {}


@pytest.mark.parametrize(
    ("role", "restricted"),
    [("viewer", False), ("creative", False), ("privacy_officer", True), ("admin", True)],
)
def test_access_by_role(role: str, restricted: bool) -> None:
    assert access_for(role) == Access(restricted=restricted, hidden_people=restricted)
    # Search finds restricted assets exactly when the asset pages open them.
    assert (
        may_see_restricted(User(email="x@example.org", password_hash="", role=role)) is restricted
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fietsers gent zomer", "fietser gent zomer"),  # stems, the typed word last as typed
        ("huizen ", "huis "),  # a space ends the typing: no prefix
        ('zomer "graslei in gent" -brugge', 'zomer "graslei in gent" -brugge '),
        ('"graslei" fiet', '"graslei" fiet'),  # the word being typed stays last
        ("", " "),
    ],
)
def test_meili_query_text(text: str, expected: str) -> None:
    assert query_text(parse_query(text)) == expected


def test_meili_filters_follow_the_api_shape() -> None:
    request = SearchRequest(
        filters=Filters(
            kinds=("image", "video"),
            years=(2023,),
            tags=("gent", 'zo"mer'),
            people=("p1",),
            cleared_for=("website",),
            uploaders=("u1",),
        )
    )
    assert filter_expression(request) == [
        ['kind = "image"', 'kind = "video"'],
        ['uploader = "u1"'],
        ["year = 2023"],
        'tags = "gent"',
        'tags = "zo\\"mer"',
        'cleared_for = "website"',
        ['person_ids = "p1"', 'people = "p1"'],
        "restricted = false",
    ]
    privileged = SearchRequest(filters=Filters(people=("An",)), access=Access(True, True))
    assert filter_expression(privileged) == [
        ['person_ids = "An"', 'people = "An"', 'hidden_person_ids = "An"', 'hidden_people = "An"']
    ]


def test_meili_params_hide_hidden_people_from_other_roles() -> None:
    _, params = search_params(SearchRequest(sort="taken_desc", page=3, per_page=10))
    assert "hidden_people" not in params["attributesToSearchOn"]
    assert "hidden_people" not in params["facets"]
    assert params["sort"] == ["taken_ts:desc"]
    assert (params["page"], params["hitsPerPage"], params["matchingStrategy"]) == (3, 10, "all")
    _, privileged = search_params(SearchRequest(access=Access(True, True)))
    assert "hidden_people" in privileged["attributesToSearchOn"]
    assert "sort" not in privileged


def test_meili_document_carries_stems_and_omits_unknown_dates() -> None:
    doc = meili_document(build_document(facts(title="Oude huizen")))
    assert "huis" in doc["stems"]
    assert "taken_ts" not in doc and "year" not in doc
    dated = meili_document(build_document(facts(taken_at=MOMENT)))
    assert dated["year"] == 2024 and dated["taken_ts"] == int(MOMENT.timestamp())
