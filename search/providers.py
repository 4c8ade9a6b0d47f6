"""The facts the core's own tables add to search documents: the people confirmed on an
asset, its cached verdict per channel (and from it whether its licence expired) and its
collections. (Whether it is restricted comes with the asset row in search/facts.py.)

They read dam's tables (people, faces, verdicts and collections live in the core's
models), so search needs no import of gdpr; registered from search/plugin.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from dam.models import (
    AssetVerdict,
    Collection,
    CollectionAsset,
    Face,
    FaceState,
    Person,
    VerdictSet,
)
from dam.wiring import Wiring
from search import facts


def register(wiring: Wiring) -> None:
    wiring.extend(facts.FACTS, "core", core_facts)


def core_facts(session: Session, asset_ids: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    ids = list(asset_ids)
    people: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for asset_id, person_id, name, hidden in session.exec(
        select(Face.asset_id, Person.id, Person.name, Person.hidden)
        .join(Person, col(Person.id) == col(Face.person_id))
        .where(col(Face.asset_id).in_(ids), Face.state == FaceState.confirmed)
        .distinct()
        .order_by(col(Face.asset_id), col(Person.id))
    ).all():
        people[asset_id].append(
            {"id": person_id, "name": name, "state": "confirmed", "hidden": bool(hidden)}
        )
    verdicts: dict[str, dict[str, str]] = defaultdict(dict)
    expired: set[str] = set()
    for asset_id, channels in session.exec(
        select(AssetVerdict.asset_id, VerdictSet.channels)
        .join(VerdictSet, col(VerdictSet.id) == col(AssetVerdict.verdict_id))
        .where(col(AssetVerdict.asset_id).in_(ids))
    ).all():
        for channel, data in (channels or {}).items():
            verdicts[asset_id][channel] = str(data["status"])
            # The verdict knows when a licence ran out (and is re-judged, so re-indexed,
            # at that moment): the licence facet says "expired" from then on.
            if any(r.get("code") == "licence_expired" for r in data["reasons"]):
                expired.add(asset_id)
    titles: dict[str, list[str]] = defaultdict(list)
    for asset_id, title in session.exec(
        select(CollectionAsset.asset_id, Collection.title)
        .join(Collection, col(Collection.id) == col(CollectionAsset.collection_id))
        .where(col(CollectionAsset.asset_id).in_(ids))
        .order_by(col(Collection.title))
    ).all():
        titles[asset_id].append(title)
    for asset_id in ids:
        out[asset_id] = {
            "people": tuple(people.get(asset_id, ())),
            "verdicts": verdicts.get(asset_id, {}),
            "collections": tuple(titles.get(asset_id, ())),
            **({"licence_state": "expired"} if asset_id in expired else {}),
        }
    return out
