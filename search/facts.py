"""Reading what a search document needs from the database, in batches.

Packages that add knowledge about assets (people and faces, consent verdicts,
collections, licences, consent evidence) add a facts provider to the wiring from their
plugin's register(): `wiring.extend(facts.FACTS, name, provider)`. A provider receives
a session and asset ids and returns, per asset id, values for AssetFacts' optional fields:
`people` (PersonFacts or mappings with id, name, state, hidden, erased), `collections`,
`verdicts` ({channel: "cleared" | "review" | "blocked"}), `licence_state`, `restricted`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from dam.models import Asset, AssetTag
from dam.wiring import Wiring
from search.document import AssetFacts, PersonFacts

FactsProvider = Callable[[Session, Sequence[str]], Mapping[str, Mapping[str, Any]]]

PROVIDED_FIELDS = frozenset({"people", "collections", "verdicts", "licence_state", "restricted"})

# The wiring's extension point for facts providers (name -> FactsProvider).
FACTS = "search.facts"


def fact_providers(wiring: Wiring) -> dict[str, FactsProvider]:
    """The facts providers in a runtime's wiring, in the order they were added."""
    return wiring.extension(FACTS)


_COLUMNS = (
    Asset.id,
    Asset.kind,
    Asset.status,
    Asset.filename,
    Asset.created_at,
    Asset.title,
    Asset.description,
    Asset.alt_text,
    Asset.width,
    Asset.height,
    Asset.taken_at,
    Asset.taken_at_offset_min,
    Asset.meta,
    Asset.licence,
    Asset.licence_status,
    Asset.restricted,
    Asset.owner_id,
)


def load_facts(
    session: Session,
    asset_ids: Sequence[str],
    providers: Mapping[str, FactsProvider] | None = None,
) -> dict[str, AssetFacts]:
    """The facts of each library asset among `asset_ids`, with what `providers` add
    (missing ones are left out, and so is consent evidence: it is never searchable, not
    even by those who may open it)."""
    ids = list(dict.fromkeys(asset_ids))
    if not ids:
        return {}
    library = (col(Asset.id).in_(ids), col(Asset.is_evidence).is_(False))
    rows: list[Any] = list(session.exec(select(*_COLUMNS).where(*library)))  # type: ignore[call-overload]
    tags: dict[str, list[str]] = {}
    for asset_id, tag in session.exec(
        select(AssetTag.asset_id, AssetTag.tag)
        .where(col(AssetTag.asset_id).in_(ids))
        .order_by(col(AssetTag.asset_id), col(AssetTag.tag))
    ):
        tags.setdefault(asset_id, []).append(tag)
    facts = {}
    for row in rows:
        meta = row.meta if isinstance(row.meta, dict) else {}
        keywords = meta.get("keywords") or []
        facts[row.id] = AssetFacts(
            id=row.id,
            kind=str(row.kind),
            status=str(row.status),
            filename=row.filename,
            created_at=row.created_at,
            title=row.title or "",
            description=row.description or "",
            alt_text=row.alt_text or "",
            tags=tuple(tags.get(row.id, ())),
            keywords=tuple(str(k) for k in keywords) if isinstance(keywords, list) else (),
            creator=str(meta.get("creator") or ""),
            width=row.width,
            height=row.height,
            taken_at=row.taken_at,
            taken_at_offset_min=row.taken_at_offset_min,
            licence=row.licence if isinstance(row.licence, dict) else {},
            licence_status=str(row.licence_status or ""),
            restricted=bool(row.restricted),
            owner_id=row.owner_id,
        )
    return _with_provided(session, facts, providers or {})


def _with_provided(
    session: Session, facts: dict[str, AssetFacts], providers: Mapping[str, FactsProvider]
) -> dict[str, AssetFacts]:
    if not facts or not providers:
        return facts
    extra: dict[str, dict[str, Any]] = {}
    for name, provider in list(providers.items()):
        for asset_id, values in provider(session, list(facts)).items():
            unknown = set(values) - PROVIDED_FIELDS
            if unknown:
                raise ValueError(f"facts provider {name!r} gave unknown fields {sorted(unknown)}")
            extra.setdefault(asset_id, {}).update(values)
    for asset_id, values in extra.items():
        if asset_id not in facts:
            continue
        if "people" in values:
            values["people"] = tuple(
                p if isinstance(p, PersonFacts) else PersonFacts(**p) for p in values["people"]
            )
        if "collections" in values:
            values["collections"] = tuple(values["collections"])
        facts[asset_id] = dataclasses.replace(facts[asset_id], **values)
    return facts


def iter_asset_ids(sessions: Callable[[], Session], batch: int = 2000) -> Iterator[list[str]]:
    """Every library asset id (no evidence), in batches, by keyset pagination (stable while
    assets come and go).

    Each batch is read in its own short transaction: the caller reads the assets' facts
    between batches, and on SQLite every transaction holds the write lock."""
    after = ""
    while True:
        with sessions() as session:
            ids = list(
                session.exec(
                    select(Asset.id)
                    .where(col(Asset.id) > after, col(Asset.is_evidence).is_(False))
                    .order_by(col(Asset.id))
                    .limit(batch)
                )
            )
        if not ids:
            return
        yield ids
        after = ids[-1]
