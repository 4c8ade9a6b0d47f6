"""The facet sidebar and the channel filter as data for the templates (pure).

Counts come from the search index for the current result set; a value that is chosen
stays listed even when no result has it any more, so it can be unchosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from web.ui import labels
from web.ui.labels import N_
from web.ui.listing import LibraryQuery

SHOWN = 10  # values per facet before "more"


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str  # a message id to translate when `translate`, else shown as it is
    count: int
    checked: bool
    url: str  # the library with this value toggled (links for the no-results page)
    translate: bool = False


@dataclass(frozen=True)
class FacetGroup:
    param: str  # the query parameter: kind, year, tag, ...
    title: str  # message id
    options: list[FacetOption]
    more: list[FacetOption]


# (query parameter, facet name in the index, LibraryQuery field, title)
GROUPS = (
    ("kind", "kind", "kinds", N_("Kind")),
    ("year", "year", "years", N_("Year")),
    ("tag", "tags", "tags", N_("Tags")),
    ("person", "people", "people", N_("People")),
    ("collection", "collections", "collections", N_("Collections")),
    ("licence", "licence", "licences", N_("Licence")),
)
LICENCE_LABELS = {
    "none": N_("none recorded"),
    "expired": N_("expired"),
    "own": N_("Own work"),
    "licensed": N_("Licensed"),
    "unknown": N_("Unknown"),
}


def facet_groups(facets: Mapping[str, Mapping[str, int]], query: LibraryQuery) -> list[FacetGroup]:
    """The sidebar's groups, each with its values most frequent first (years newest)."""
    groups = []
    for param, name, field, title in GROUPS:
        counts = dict(facets.get(name, {}))
        chosen = [str(v) for v in getattr(query, field)]
        for value in chosen:
            counts.setdefault(value, 0)
        if not counts:
            continue
        if param == "year":
            ordered = sorted(counts, reverse=True)
        else:
            ordered = sorted(counts, key=lambda v: (-counts[v], v.lower()))
        options = [
            _option(query, param, field, value, counts[value], value in chosen) for value in ordered
        ]
        # Chosen values always show; the rest fill up to SHOWN, then "more".
        shown = [o for o in options if o.checked]
        rest = [o for o in options if not o.checked]
        room = max(0, SHOWN - len(shown))
        groups.append(FacetGroup(param, title, shown + rest[:room], rest[room:]))
    return groups


def _option(
    query: LibraryQuery, param: str, field: str, value: str, count: int, checked: bool
) -> FacetOption:
    typed: object = int(value) if param == "year" and value.isdigit() else value
    label, translate = value, False
    if param == "kind" and value in labels.kind:
        label, translate = labels.kind[value], True
    elif param == "licence" and value in LICENCE_LABELS:
        label, translate = LICENCE_LABELS[value], True
    url = query.toggled(field, typed).url("/")
    return FacetOption(value, label, count, checked, url, translate)


@dataclass(frozen=True)
class ChannelOption:
    value: str
    count: int | None  # None: no counts (the index did not answer)
    selected: bool


def channel_options(
    channels: Sequence[str], facets: Mapping[str, Mapping[str, int]], query: LibraryQuery
) -> list[ChannelOption]:
    """The "cleared for" choice above the grid: every channel, with how many results are."""
    counts = facets.get("cleared_for")
    chosen = query.cleared_for[0] if query.cleared_for else ""
    return [
        ChannelOption(
            value=channel,
            count=None if counts is None else counts.get(channel, 0),
            selected=channel == chosen,
        )
        for channel in channels
    ]
