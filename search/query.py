"""What a search asks for: the parsed query text, filters, sort, page and the caller's access.

The query language is Meilisearch's: words (every one must match, with typos allowed by
length), the last word also as a prefix while it is being typed, "quoted phrases", and
-word or -"phrase" to exclude. Both backends receive the same parsed form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from search.analysis import typo_budget, words

# Meilisearch reads at most ten words of a query; so do we, which also bounds the cost of
# the fuzzy expansions a query may ask for.
MAX_QUERY_WORDS = 10
MAX_PER_PAGE = 200
FACET_SIZE = 100

Sort = Literal["relevance", "taken_desc", "taken_asc", "uploaded_desc", "uploaded_asc"]
SORTS: tuple[Sort, ...] = ("relevance", "taken_desc", "taken_asc", "uploaded_desc", "uploaded_asc")

FACETS = ("kind", "year", "tags", "people", "collections", "cleared_for", "licence")


@dataclass(frozen=True)
class Word:
    text: str  # folded, as analysis.words() gives it
    prefix: bool = False  # the word being typed: also matches longer words starting with it

    @property
    def typos(self) -> int:
        return typo_budget(self.text)


@dataclass(frozen=True)
class ParsedQuery:
    words: tuple[Word, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()  # each phrase: its folded words, in order
    excluded: tuple[tuple[str, ...], ...] = ()  # excluded words and phrases

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.phrases


_TOKEN = re.compile(r'(-?)"([^"]*)("?)|(-?)([^\s"]+)')


def parse_query(text: str) -> ParsedQuery:
    """Parse what a person typed into words, phrases and exclusions."""
    found_words: list[Word] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    last_is_bare_word = False
    for match in _TOKEN.finditer(text or ""):
        negated = bool(match.group(1) or match.group(4))
        quoted = match.group(2) is not None
        folded = tuple(words(match.group(2) if quoted else match.group(5)))
        last_is_bare_word = False
        if not folded:
            continue
        if negated:
            excluded.append(folded)
        elif quoted:
            phrases.append(folded)
        else:
            # "e-bike" is two words, each of which must match.
            found_words.extend(Word(w) for w in folded)
            last_is_bare_word = True
    # The last word is still being typed unless a space (or a closing quote) followed it.
    if found_words and last_is_bare_word and text and not text[-1].isspace():
        found_words[-1] = Word(found_words[-1].text, prefix=True)
    found_words = found_words[:MAX_QUERY_WORDS]
    return ParsedQuery(tuple(found_words), tuple(phrases), tuple(excluded))


@dataclass(frozen=True)
class Filters:
    """Each field narrows the result. Values within kinds, years, licences, orientations
    and uploaders are alternatives (an asset has one of each); within the others all must
    hold."""

    kinds: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    people: tuple[str, ...] = ()  # person ids or names
    collections: tuple[str, ...] = ()
    cleared_for: tuple[str, ...] = ()  # channels the verdict is `cleared` for
    licences: tuple[str, ...] = ()
    orientations: tuple[str, ...] = ()
    uploaders: tuple[str, ...] = ()  # user ids: uploaded by one of them


@dataclass(frozen=True)
class Access:
    """What the caller may find, decided by their role (search.service.access_for)."""

    restricted: bool = False  # consent evidence scans and other restricted material
    hidden_people: bool = False  # people marked hidden: searchable by name, in facets


@dataclass(frozen=True)
class SearchRequest:
    query: ParsedQuery = field(default_factory=ParsedQuery)
    filters: Filters = field(default_factory=Filters)
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    access: Access = field(default_factory=Access)
    facets: bool = True

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    title: str
    highlights: dict[str, str]  # field -> text with matches in <mark>...</mark>, HTML-escaped


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]


def effective_sort(sort: Sort | None, query: ParsedQuery) -> Sort:
    """Relevance needs words to rank by; without them the newest uploads come first."""
    if sort is None or sort == "relevance":
        return "uploaded_desc" if query.is_empty else "relevance"
    return sort
