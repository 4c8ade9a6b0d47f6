"""The search document: a pure projection of what the database knows about one asset.

`AssetFacts` is the builder's input. The fields after the marker are filled by packages
that do not exist yet (faces and people, consent verdicts, collections, licences,
consent evidence); until a facts provider fills them (search.facts) they stay empty, and
the document is still complete for everything else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

PersonState = Literal["suggested", "confirmed", "dismissed", "unknown"]
Verdict = Literal["cleared", "review", "blocked"]

# Searchable text of a document, in the order highlights are reported.
TEXT_FIELDS = (
    "title",
    "description",
    "alt_text",
    "tags",
    "keywords",
    "people",
    "collections",
    "creator",
    "filename",
)

# Exact-match fields of a document (filters and facets); both backends index these.
KEYWORD_FIELDS = (
    "kind",
    "year",
    "tags",
    "people",
    "person_ids",
    "hidden_people",
    "hidden_person_ids",
    "collections",
    "cleared_for",
    "verdicts",
    "licence",
    "orientation",
    "uploader",
)

# Each sort of the query language: the document field and whether it runs newest first.
SORT_FIELDS: dict[str, tuple[str, bool]] = {
    "taken_desc": ("taken_ts", True),
    "taken_asc": ("taken_ts", False),
    "uploaded_desc": ("created_us", True),
    "uploaded_asc": ("created_us", False),
}


@dataclass(frozen=True)
class PersonFacts:
    """A person recognised on the asset (one entry per person, however many faces)."""

    id: str
    name: str
    state: PersonState = "confirmed"
    hidden: bool = False  # only privacy roles may find them by name
    erased: bool = False  # GDPR art. 17: leaves no trace in the index


@dataclass(frozen=True)
class AssetFacts:
    id: str
    kind: str
    status: str
    filename: str
    created_at: datetime
    title: str = ""
    description: str = ""
    alt_text: str = ""
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    creator: str = ""
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = None
    taken_at_offset_min: int | None = None
    licence: Mapping[str, Any] = field(default_factory=dict)
    licence_status: str = ""  # own, licensed, unknown (the asset's column)
    owner_id: str | None = None  # the user who uploaded it
    # --- filled by later packages through facts providers; empty defaults until then ---
    people: tuple[PersonFacts, ...] = ()
    collections: tuple[str, ...] = ()  # collection titles
    verdicts: Mapping[str, Verdict] = field(default_factory=dict)  # channel -> verdict
    licence_state: str | None = None  # e.g. "valid", "expired"; derived when None
    restricted: bool = False  # consent evidence scans: privacy roles only


@dataclass(frozen=True)
class SearchDocument:
    """What both backends index for one asset; `fingerprint` detects stale copies."""

    id: str
    kind: str
    status: str
    title: str
    description: str
    alt_text: str
    filename: str
    creator: str
    tags: tuple[str, ...]
    keywords: tuple[str, ...]
    collections: tuple[str, ...]
    people: tuple[str, ...]  # names of confirmed people who are not hidden
    person_ids: tuple[str, ...]
    hidden_people: tuple[str, ...]  # confirmed but hidden: privacy roles only
    hidden_person_ids: tuple[str, ...]
    orientation: str  # landscape, portrait, square or "" when the size is unknown
    year: int | None  # capture year, local time of the capture
    taken_date: str | None  # capture date (ISO), local time of the capture
    taken_ts: int | None  # capture moment, seconds since the epoch (sorting)
    uploaded_date: str
    created_us: int  # upload moment, microseconds since the epoch (sorting: uploads in
    # the same second keep their order)
    verdicts: tuple[tuple[str, str], ...]  # (channel, verdict), sorted by channel
    cleared_for: tuple[str, ...]
    licence: str
    restricted: bool
    uploader: str  # the uploading user's id, "" when unknown ("only my uploads")

    @cached_property
    def fingerprint(self) -> str:
        # Field values in declaration order: plain JSON of strings, numbers and lists is
        # canonical enough, and far cheaper than dataclasses.asdict on a full reindex.
        values = [getattr(self, f.name) for f in fields(self)]
        payload = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def text(self, name: str) -> str:
        """One searchable field as text (lists joined with ' · ')."""
        value = getattr(self, name)
        return " · ".join(value) if isinstance(value, tuple) else str(value or "")


def build_document(facts: AssetFacts, *, zone: str = "Europe/Brussels") -> SearchDocument:
    """Project one asset's facts into its search document (pure)."""
    confirmed = [p for p in facts.people if p.state == "confirmed" and not p.erased]
    visible = [p for p in confirmed if not p.hidden]
    hidden = [p for p in confirmed if p.hidden]
    local_taken = _local_capture_time(facts.taken_at, facts.taken_at_offset_min, zone)
    created = facts.created_at.astimezone(UTC)
    verdicts = tuple(sorted((str(c), str(v)) for c, v in facts.verdicts.items()))
    return SearchDocument(
        id=facts.id,
        kind=facts.kind,
        status=facts.status,
        title=facts.title.strip(),
        description=facts.description.strip(),
        alt_text=facts.alt_text.strip(),
        filename=facts.filename,
        creator=(facts.creator or "").strip(),
        tags=_unique(facts.tags),
        keywords=_unique(facts.keywords),
        collections=_unique(facts.collections),
        people=_unique(p.name for p in visible),
        person_ids=_unique(p.id for p in visible),
        hidden_people=_unique(p.name for p in hidden),
        hidden_person_ids=_unique(p.id for p in hidden),
        orientation=orientation(facts.width, facts.height),
        year=local_taken.year if local_taken else None,
        taken_date=local_taken.date().isoformat() if local_taken else None,
        taken_ts=int(facts.taken_at.timestamp()) if facts.taken_at else None,
        uploaded_date=created.date().isoformat(),
        created_us=int(created.timestamp() * 1_000_000),
        verdicts=verdicts,
        cleared_for=tuple(c for c, v in verdicts if v == "cleared"),
        licence=licence_state(facts.licence, facts.licence_state, facts.licence_status),
        restricted=facts.restricted,
        uploader=facts.owner_id or "",
    )


def orientation(width: int | None, height: int | None) -> str:
    if not width or not height:
        return ""
    if width == height:
        return "square"
    return "landscape" if width > height else "portrait"


def licence_state(licence: Mapping[str, Any], given: str | None, status: str = "") -> str:
    """The licence facet value: what a provider decided ("expired"), else the asset's
    licence status (own, licensed, unknown); facts without a status (older callers) fall
    back to the recorded type: "none" when empty."""
    if given:
        return given
    if status:
        return status
    if not licence:
        return "none"
    kind = licence.get("type") or licence.get("kind")
    return str(kind).strip().lower() if kind else "recorded"


def _local_capture_time(
    taken_at: datetime | None, offset_min: int | None, zone: str
) -> datetime | None:
    # A photo taken at 23:30 on 31 December in Ghent belongs to that year, not the next:
    # the year and date are those of the place and moment it was taken.
    if taken_at is None:
        return None
    if offset_min is not None:
        return taken_at.astimezone(UTC) + timedelta(minutes=offset_min)
    return taken_at.astimezone(ZoneInfo(zone))


def _unique(values: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        text = " ".join(str(value).split())
        if text:
            seen.setdefault(text, None)
    return tuple(seen)
