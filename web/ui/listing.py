"""The library's query (sort, filters, page) as it travels through URLs, and result sets.

An asset page knows the result set it was opened from (the same parameters plus its
position), so previous/next walk that set: the library's filters, or a collection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import get_args
from urllib.parse import urlencode

from sqlmodel import Session

from dam import assets, collections
from dam.assets import SortKey
from dam.models import Asset

PER_PAGE = 60
SORTS: tuple[str, ...] = ("newest", "taken", "title")
KINDS = ("image", "video")
MAX_PAGE = 100_000


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return min(max(number, low), high)


@dataclass(frozen=True)
class LibraryQuery:
    sort: SortKey = "newest"
    kind: str | None = None
    tag: str | None = None
    mine: bool = False
    page: int = 1
    collection_id: str | None = None  # the result set is a collection, not the library

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LibraryQuery:
        """Read the query string leniently: a bad value falls back to the default."""
        sort = params.get("sort", "newest")
        kind = params.get("kind") or None
        tag = " ".join((params.get("tag") or "").split()).lower()[:100] or None
        return cls(
            sort=sort if sort in get_args(SortKey) else "newest",  # type: ignore[arg-type]
            kind=kind if kind in KINDS else None,
            tag=tag,
            mine=params.get("mine") in ("1", "true", "on"),
            page=_int(params.get("page"), 1, 1, MAX_PAGE),
            collection_id=params.get("in") or None,
        )

    def params(self, **changes: object) -> dict[str, str]:
        """Only what differs from the defaults, so URLs stay short and shareable."""
        query = replace(self, **changes)  # type: ignore[arg-type]
        out: dict[str, str] = {}
        if query.collection_id:
            out["in"] = query.collection_id
        if query.sort != "newest":
            out["sort"] = query.sort
        if query.kind:
            out["kind"] = query.kind
        if query.tag:
            out["tag"] = query.tag
        if query.mine:
            out["mine"] = "1"
        if query.page != 1:
            out["page"] = str(query.page)
        return out

    def url(self, path: str, **changes: object) -> str:
        text = urlencode(self.params(**changes))
        return f"{path}?{text}" if text else path

    def asset_url(self, asset_id: str, index: int) -> str:
        """The asset's page, remembering this result set and the asset's place in it."""
        params = self.params(page=1)
        params["i"] = str(index)
        return f"/assets/{asset_id}?{urlencode(params)}"

    @property
    def is_filtered(self) -> bool:
        return bool(self.kind or self.tag or self.mine)


@dataclass(frozen=True)
class ResultPage:
    total: int
    items: list[Asset]
    query: LibraryQuery
    per_page: int = PER_PAGE

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


def next_page_header(result: ResultPage, path: str) -> dict[str, str]:
    """Tells the infinite-scroll script where the page after this fragment is."""
    if not result.has_next:
        return {}
    return {"X-Next-Page": result.query.url(path, page=result.query.page + 1)}


def fetch(session: Session, query: LibraryQuery, *, owner_id: str | None) -> ResultPage:
    """One page of the result set `query` describes."""
    if query.collection_id:
        found = collections.collection_assets(
            session, collection_id=query.collection_id, page=query.page, per_page=PER_PAGE
        )
        return ResultPage(found.total, found.items, query, per_page=PER_PAGE)
    result = assets.list_assets(
        session,
        page=query.page,
        per_page=PER_PAGE,
        sort=query.sort,
        kind=query.kind,
        tag=query.tag,
        owner_id=owner_id if query.mine else None,
    )
    return ResultPage(result.total, result.items, query, per_page=PER_PAGE)


@dataclass(frozen=True)
class Neighbours:
    prev_url: str | None
    next_url: str | None
    position: int  # 1-based, for "3 of 120"
    total: int


def _at(
    session: Session, query: LibraryQuery, index: int, owner_id: str | None
) -> tuple[int, Asset | None]:
    if index < 0:
        return 0, None
    # A page of one item at `index` reuses the services' own paging and ordering.
    page = fetch_one(session, query, index, owner_id)
    return page.total, page.items[0] if page.items else None


def fetch_one(
    session: Session, query: LibraryQuery, index: int, owner_id: str | None
) -> ResultPage:
    if query.collection_id:
        found = collections.collection_assets(
            session, collection_id=query.collection_id, page=index + 1, per_page=1
        )
        return ResultPage(found.total, found.items, query, per_page=1)
    result = assets.list_assets(
        session,
        page=index + 1,
        per_page=1,
        sort=query.sort,
        kind=query.kind,
        tag=query.tag,
        owner_id=owner_id if query.mine else None,
    )
    return ResultPage(result.total, result.items, query, per_page=1)


def neighbours(
    session: Session, query: LibraryQuery, *, asset_id: str, index: int, owner_id: str | None
) -> Neighbours | None:
    """Previous/next in the result set, or None when the asset is no longer at `index`."""
    total, here = _at(session, query, index, owner_id)
    if here is None or here.id != asset_id:
        return None
    _, before = _at(session, query, index - 1, owner_id)
    _, after = _at(session, query, index + 1, owner_id) if index + 1 < total else (0, None)
    return Neighbours(
        prev_url=query.asset_url(before.id, index - 1) if before else None,
        next_url=query.asset_url(after.id, index + 1) if after else None,
        position=index + 1,
        total=total,
    )
