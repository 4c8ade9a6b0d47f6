"""The library's search side: running a library query through the search index as one
user, the facet sidebar, and what to suggest when nothing is found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from fastapi import Request
from sqlmodel import Session

from dam import tags
from dam.models import User
from search.analysis import edit_distance, words
from search.query import Filters, Sort
from search.service import SearchParams, SearchUnavailableError, search_assets, service_for
from web.deps import get_runtime
from web.ui import listing
from web.ui.facets import ChannelOption, FacetGroup, channel_options, facet_groups
from web.ui.listing import Found, LibraryQuery, ResultPage

# The library's sorts in the index's terms ("title" exists only when browsing).
SEARCH_SORT: dict[str, Sort] = {
    "relevance": "relevance",
    "newest": "uploaded_desc",
    "taken": "taken_desc",
}
MAX_SUGGESTIONS = 6
# Did-you-mean looks for a tag this close to a typed word (fewer typos for short words).
SPELLING_DISTANCE = 3
SPELLING_TAGS = 500


def filters_of(query: LibraryQuery, user: User) -> Filters:
    """The query's filters in the index's terms; "only mine" means uploaded by `user`."""
    return Filters(
        kinds=query.kinds,
        years=query.years,
        tags=query.tags,
        people=query.people,
        collections=query.collections,
        cleared_for=query.cleared_for,
        licences=query.licences,
        uploaders=(user.id,) if query.mine else (),
    )


class LibrarySearcher:
    """Library queries through the search index, with `user`'s access (as the API)."""

    def __init__(self, request: Request, user: User) -> None:
        self.service = service_for(get_runtime(request))
        self.user = user

    def find(self, query: LibraryQuery, *, page: int, per_page: int, facets: bool) -> Found:
        params = SearchParams(
            q=query.q,
            filters=filters_of(query, self.user),
            sort=SEARCH_SORT.get(query.effective_sort, "relevance"),
            page=page,
            per_page=per_page,
            facets=facets,
        )
        result = search_assets(self.service, user=self.user, params=params)
        return Found(
            total=result.total,
            ids=[hit.id for hit in result.hits],
            highlights={hit.id: hit.highlights for hit in result.hits if hit.highlights},
            facets=result.facets,
        )

    def count(self, query: LibraryQuery) -> int:
        return self.find(query, page=1, per_page=1, facets=False).total


@dataclass(frozen=True)
class Suggestion:
    """One way out of "no results": the template words it by `kind`."""

    kind: str  # "without", "spelling", "fewer_words" or "tag"
    url: str
    value: str  # the filter value dropped, the corrected words, the words kept, the tag
    key: str = ""  # for "without": which filter
    count: int = 0


FILTER_KEYS = ("cleared_for", "kinds", "tags", "years", "people", "collections", "licences")


def suggestions(
    session: Session, searcher: LibrarySearcher, query: LibraryQuery
) -> list[Suggestion]:
    """Nearby queries that do find something, best first; popular tags when none does."""
    found: list[Suggestion] = []
    for key in FILTER_KEYS:
        for value in getattr(query, key):
            wider = query.without(key, value)
            if count := searcher.count(wider):
                found.append(Suggestion("without", wider.url("/"), str(value), key, count))
    typed = words(query.q)
    if typed:
        known = tags.popular_tags(session, limit=SPELLING_TAGS)
        corrected = [_closest(word, known) or word for word in typed]
        if corrected != typed:
            better = replace(query, q=" ".join(corrected), page=1)
            if count := searcher.count(better):
                found.append(Suggestion("spelling", better.url("/"), better.q, count=count))
    if len(typed) > 1:
        for skipped in range(len(typed)):
            kept = " ".join(w for n, w in enumerate(typed) if n != skipped)
            fewer = replace(query, q=kept, page=1)
            if count := searcher.count(fewer):
                found.append(Suggestion("fewer_words", fewer.url("/"), kept, count=count))
    found = found[:MAX_SUGGESTIONS]
    if not found:
        found = [
            Suggestion("tag", LibraryQuery(tags=(tag,)).url("/"), tag)
            for tag in tags.popular_tags(session, limit=MAX_SUGGESTIONS * 2)
        ]
    return found


def _closest(word: str, candidates: list[str]) -> str | None:
    best: tuple[int, str] | None = None
    for candidate in candidates:
        if candidate == word:
            return None  # the word is a tag itself: nothing to correct
        limit = min(SPELLING_DISTANCE, max(1, len(word) // 3))
        distance = edit_distance(word, candidate, limit)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None


@dataclass(frozen=True)
class LibraryView:
    """Everything the library page shows for one query."""

    result: ResultPage
    groups: list[FacetGroup]
    channels: list[ChannelOption]
    suggestions: list[Suggestion]
    search_down: bool  # browsing works, but the index did not answer for the facets


def library_view(
    session: Session,
    query: LibraryQuery,
    *,
    searcher: LibrarySearcher,
    owner_id: str,
    channels: Sequence[str],
    cards_only: bool = False,
) -> LibraryView:
    """The result page; unless only the cards are asked for, facets and suggestions too."""
    result = listing.fetch(
        session, query, owner_id=owner_id, searcher=searcher, facets=not cards_only
    )
    if cards_only:
        return LibraryView(result, [], [], [], False)
    facets, search_down = result.facets, False
    try:
        if not query.is_search:
            # Browsing reads the database; the sidebar still counts what the index holds.
            facets = searcher.find(query, page=1, per_page=1, facets=True).facets
        channel_counts = facets
        if query.cleared_for:
            # Each channel's count as if it were the one chosen, not within the chosen one.
            wider = query.without("cleared_for")
            channel_counts = searcher.find(wider, page=1, per_page=1, facets=True).facets
        nothing = query.is_search and not result.total
        found = suggestions(session, searcher, query) if nothing else []
    except SearchUnavailableError:
        if query.is_search:
            raise
        facets, channel_counts, found, search_down = {}, {}, [], True
    return LibraryView(
        result=result,
        groups=facet_groups(facets, query),
        channels=channel_options(channels, channel_counts, query),
        suggestions=found,
        search_down=search_down,
    )
