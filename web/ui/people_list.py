"""The People page's query as it travels through URLs: the name searched for, the page of
people and the page of unnamed groups; and a page of people in the shape the library's
pager partial (_pager.html) reads.

The two lists page apart (`page` for people, `groups` for unnamed groups), and each pager
keeps the other's place and the name searched for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from gdpr.recognition.people_overview import PeoplePage, PersonRow

MAX_Q = 200
MAX_PAGE = 100_000


def _page(value: str | None) -> int:
    raw = (value or "").strip()
    return min(max(int(raw), 1), MAX_PAGE) if raw.isdigit() and len(raw) <= 6 else 1


@dataclass(frozen=True)
class PeopleQuery:
    q: str = ""
    page: int = 1  # of people
    groups: int = 1  # page of unnamed groups

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> PeopleQuery:
        """Read the query string leniently: a bad value falls back to the default."""
        return cls(
            q=" ".join(str(params.get("q") or "").split())[:MAX_Q],
            page=_page(params.get("page")),
            groups=_page(params.get("groups")),
        )

    def url(self, path: str, **changes: object) -> str:
        """This query with `changes`, leaving out defaults so URLs stay short."""
        query = replace(self, **changes)  # type: ignore[arg-type]
        params = [("q", query.q)] if query.q else []
        if query.page != 1:
            params.append(("page", str(query.page)))
        if query.groups != 1:
            params.append(("groups", str(query.groups)))
        return f"{path}?{urlencode(params)}" if params else path


@dataclass(frozen=True)
class PeopleListing:
    """A page of people and the query it answers (what _pager.html reads)."""

    found: PeoplePage
    query: PeopleQuery

    @property
    def rows(self) -> list[PersonRow]:
        return self.found.rows

    @property
    def total(self) -> int:
        return self.found.paging.total

    @property
    def pages(self) -> int:
        return self.found.paging.pages

    @property
    def has_prev(self) -> bool:
        return self.query.page > 1

    @property
    def has_next(self) -> bool:
        return self.query.page < self.pages
