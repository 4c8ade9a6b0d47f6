"""The library's query (words, sort, filters, page) as it travels through URLs, and result
sets.

Plain browsing (no words, at most one kind and one tag, perhaps "only mine") reads the
database directly, so a fresh upload shows at once and "title" works. Words or any other
filter go to the search index (search.service): relevance, typo tolerance, facets and
highlights; there "only mine" filters on the uploader each document carries. Both give
the same `ResultPage`, so the page, the cards and the pager are one.

An asset page knows the result set it was opened from (the same parameters plus its
position), so previous/next walk that set: the library's filters, a search, or a
collection.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast
from urllib.parse import urlencode

from markupsafe import Markup
from sqlmodel import Session, col, select

from dam import assets, collections
from dam.assets import SortKey
from dam.models import Asset

PER_PAGE = 60
# "relevance" needs words to rank by; "title" is the database's alone.
SORTS: tuple[str, ...] = ("relevance", "newest", "taken", "title")
BROWSE_SORTS: tuple[str, ...] = ("newest", "taken", "title")
SEARCH_SORTS: tuple[str, ...] = ("relevance", "newest", "taken")
KINDS = ("image", "video")
MAX_PAGE = 100_000
MAX_VALUES = 20  # values of one filter in a URL
MAX_Q = 500


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return min(max(number, low), high)


def _values(params: Mapping[str, str], key: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    raw = getlist(key) if getlist else [params.get(key)]
    out: dict[str, None] = {}
    for value in raw:
        text = " ".join(str(value or "").split())[:100]
        if text:
            out.setdefault(text, None)
    return list(out)[:MAX_VALUES]


@dataclass(frozen=True)
class LibraryQuery:
    q: str = ""
    sort: str | None = None  # None: relevance for a search with words, else newest
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    people: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()  # collection titles (a facet), not `collection_id`
    licences: tuple[str, ...] = ()
    cleared_for: tuple[str, ...] = ()
    mine: bool = False  # only what the viewer uploaded
    page: int = 1
    collection_id: str | None = None  # the result set is a collection, not the library

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LibraryQuery:
        """Read the query string leniently: a bad value falls back to the default."""
        sort = params.get("sort") or None
        years = [y for y in _values(params, "year") if y.isdigit() and len(y) == 4]
        return cls(
            q=" ".join(str(params.get("q") or "").split())[:MAX_Q],
            sort=sort if sort in SORTS else None,
            kinds=tuple(k for k in _values(params, "kind") if k in KINDS),
            tags=tuple(dict.fromkeys(t.lower() for t in _values(params, "tag"))),
            years=tuple(int(y) for y in years),
            people=tuple(_values(params, "person")),
            collections=tuple(_values(params, "collection")),
            licences=tuple(_values(params, "licence")),
            cleared_for=tuple(_values(params, "cleared_for")),
            mine=params.get("mine") in ("1", "true", "on"),
            page=_int(params.get("page"), 1, 1, MAX_PAGE),
            collection_id=params.get("in") or None,
        )

    @property
    def words(self) -> str:
        return self.q

    @property
    def is_search(self) -> bool:
        """Whether the search index answers (words, or filters the database cannot do)."""
        if self.collection_id:
            return False
        return bool(
            self.words
            or self.years
            or self.people
            or self.collections
            or self.licences
            or self.cleared_for
            or len(self.kinds) > 1
            or len(self.tags) > 1
        )

    @property
    def effective_sort(self) -> str:
        if self.is_search:
            if self.sort in SEARCH_SORTS and (self.sort != "relevance" or self.words):
                return self.sort
            return "relevance" if self.words else "newest"
        return self.sort if self.sort in BROWSE_SORTS else "newest"

    @property
    def sorts(self) -> tuple[str, ...]:
        """The sorts this result set offers."""
        if not self.is_search:
            return BROWSE_SORTS
        return SEARCH_SORTS if self.words else SEARCH_SORTS[1:]

    def params(self, **changes: object) -> list[tuple[str, str]]:
        """Only what differs from the defaults, so URLs stay short and shareable."""
        query = replace(self, **changes)  # type: ignore[arg-type]
        out: list[tuple[str, str]] = []
        if query.collection_id:
            out.append(("in", query.collection_id))
        if query.q:
            out.append(("q", query.q))
        if query.sort and query.sort != query.default_sort:
            out.append(("sort", query.sort))
        for key, values in (
            ("kind", query.kinds),
            ("tag", query.tags),
            ("year", tuple(str(y) for y in query.years)),
            ("person", query.people),
            ("collection", query.collections),
            ("licence", query.licences),
            ("cleared_for", query.cleared_for),
        ):
            out += [(key, str(v)) for v in values]
        if query.mine:
            out.append(("mine", "1"))
        if query.page != 1:
            out.append(("page", str(query.page)))
        return out

    @property
    def default_sort(self) -> str:
        return "relevance" if self.is_search and self.words else "newest"

    def url(self, path: str, **changes: object) -> str:
        text = urlencode(self.params(**changes))
        return f"{path}?{text}" if text else path

    def without(self, key: str, value: object = None) -> LibraryQuery:
        """This query less one filter value (or the whole filter), from the first page."""
        current = getattr(self, key)
        changes: dict[str, Any] = {"page": 1}
        if isinstance(current, tuple) and value is not None:
            changes[key] = tuple(v for v in current if v != value)
        else:
            changes[key] = () if isinstance(current, tuple) else type(current)()
        return replace(self, **changes)

    def toggled(self, key: str, value: object) -> LibraryQuery:
        """This query with `value` added to (or taken from) the filter `key`."""
        current = cast(tuple[object, ...], getattr(self, key))
        values = tuple(v for v in current if v != value) if value in current else (*current, value)
        changes: dict[str, Any] = {key: values, "page": 1}
        return replace(self, **changes)

    def asset_url(self, asset_id: str, index: int) -> str:
        """The asset's page, remembering this result set and the asset's place in it."""
        params = self.params(page=1)
        params.append(("i", str(index)))
        return f"/assets/{asset_id}?{urlencode(params)}"

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.words
            or self.kinds
            or self.tags
            or self.years
            or self.people
            or self.collections
            or self.licences
            or self.cleared_for
            or self.mine
        )


@dataclass(frozen=True)
class Found:
    """What a search gives the listing: the total, a page of ids, their highlights."""

    total: int
    ids: list[str]
    highlights: dict[str, dict[str, str]] = field(default_factory=dict)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class Searcher(Protocol):
    """Runs a library query through the search index as one user (web.ui.library_search)."""

    def find(self, query: LibraryQuery, *, page: int, per_page: int, facets: bool) -> Found: ...


@dataclass(frozen=True)
class ResultPage:
    total: int
    items: list[Asset]
    query: LibraryQuery
    per_page: int = PER_PAGE
    highlights: dict[str, dict[str, str]] = field(default_factory=dict)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def first_index(self) -> int:
        return (self.query.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.query.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.query.page > 1

    def marked_title(self, asset: Asset) -> Markup | None:
        """The card's title with the matched words in <mark>, when the search marked any.

        The search escaped everything but its <mark> tags already (search.highlight.render);
        marks_only makes sure of it whatever a backend sends."""
        found = self.highlights.get(asset.id, {})
        marked = found.get("title") if asset.title else found.get("filename")
        return marks_only(marked) if marked else None

    def snippet(self, asset: Asset) -> tuple[str, Markup] | None:
        """The first other field that matched, to show why an asset was found."""
        for name, marked in self.highlights.get(asset.id, {}).items():
            if name not in ("title", "filename"):
                return name, marks_only(marked)
        return None


_MARK_TAG = re.compile(r"(</?mark>)")


def marks_only(marked: str) -> Markup:
    """Highlighted text as markup in which only <mark> and </mark> are tags."""
    out = Markup()
    for piece in _MARK_TAG.split(marked):
        if piece == "<mark>":
            out += Markup("<mark>")
        elif piece == "</mark>":
            out += Markup("</mark>")
        else:
            out += html.unescape(piece)  # adding a str to Markup escapes it
    return out


def next_page_header(result: ResultPage, path: str) -> dict[str, str]:
    """Tells the infinite-scroll script where the page after this fragment is."""
    if not result.has_next:
        return {}
    return {"X-Next-Page": result.query.url(path, page=result.query.page + 1)}


def _in_order(session: Session, ids: Sequence[str]) -> list[Asset]:
    # An asset deleted a moment ago may still be in the index: it is left out here.
    if not ids:
        return []
    rows = {a.id: a for a in session.exec(select(Asset).where(col(Asset.id).in_(list(ids))))}
    return [rows[i] for i in ids if i in rows]


def _fetch(
    session: Session,
    query: LibraryQuery,
    *,
    page: int,
    per_page: int,
    owner_id: str | None,
    searcher: Searcher | None,
    facets: bool = False,
) -> ResultPage:
    if query.collection_id:
        # Like the library grid: no restricted asset, whoever looks.
        found = collections.collection_assets(
            session, collection_id=query.collection_id, viewer=None, page=page, per_page=per_page
        )
        return ResultPage(found.total, found.items, query, per_page=per_page)
    if query.is_search:
        if searcher is None:
            return ResultPage(0, [], query, per_page=per_page)
        hits = searcher.find(query, page=page, per_page=per_page, facets=facets)
        return ResultPage(
            hits.total,
            _in_order(session, hits.ids),
            query,
            per_page=per_page,
            highlights=hits.highlights,
            facets=hits.facets,
        )
    result = assets.list_assets(
        session,
        page=page,
        per_page=per_page,
        sort=cast(SortKey, query.effective_sort),
        kind=query.kinds[0] if query.kinds else None,
        tag=query.tags[0] if query.tags else None,
        owner_id=owner_id if query.mine else None,
    )
    return ResultPage(result.total, result.items, query, per_page=per_page)


def fetch(
    session: Session,
    query: LibraryQuery,
    *,
    owner_id: str | None,
    searcher: Searcher | None = None,
    facets: bool = False,
) -> ResultPage:
    """One page of the result set `query` describes (with facet counts when searching)."""
    return _fetch(
        session,
        query,
        page=query.page,
        per_page=PER_PAGE,
        owner_id=owner_id,
        searcher=searcher,
        facets=facets,
    )


def fetch_one(
    session: Session,
    query: LibraryQuery,
    index: int,
    owner_id: str | None,
    searcher: Searcher | None = None,
) -> ResultPage:
    """A page of one item at `index`: reuses the services' own paging and ordering."""
    return _fetch(session, query, page=index + 1, per_page=1, owner_id=owner_id, searcher=searcher)


@dataclass(frozen=True)
class Neighbours:
    prev_url: str | None
    next_url: str | None
    position: int  # 1-based, for "3 of 120"
    total: int


def neighbours(
    session: Session,
    query: LibraryQuery,
    *,
    asset_id: str,
    index: int,
    owner_id: str | None,
    searcher: Searcher | None = None,
) -> Neighbours | None:
    """Previous/next in the result set, or None when the asset is no longer at `index`."""

    def at(position: int) -> tuple[int, Asset | None]:
        if position < 0:
            return 0, None
        page = fetch_one(session, query, position, owner_id, searcher)
        return page.total, page.items[0] if page.items else None

    total, here = at(index)
    if here is None or here.id != asset_id:
        return None
    _, before = at(index - 1)
    _, after = at(index + 1) if index + 1 < total else (0, None)
    return Neighbours(
        prev_url=query.asset_url(before.id, index - 1) if before else None,
        next_url=query.asset_url(after.id, index + 1) if after else None,
        position=index + 1,
        total=total,
    )
