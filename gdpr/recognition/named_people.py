"""People named in a file's metadata (IPTC PersonInImage, mwg-rs face regions written by
digiKam, Lightroom or Picasa) become suggestions on the faces Beeldbank detected, so years
of tagging are not lost. Never confirmations: a person still confirms (DESIGN.md).

The names wait in the asset's metadata (`meta["named_people"]`) from ingest until the
`identity` stage; this step consumes them, whatever it finds, so no name lingers on the
asset (erasure would not see it there). A name matches an existing person with exactly
that name (ignoring case and spaces); otherwise a person is created for it, with a note
where it came from. A region matches the detected face it overlaps most (intersection
over union at least `MIN_OVERLAP`); names without a region only when the asset has one
undecided face and one such name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, func, select

from dam import audit
from dam.clock import now
from dam.geometry import Box, iou
from dam.models import Asset, Face, FaceState, Person

MIN_OVERLAP = 0.3
KEY = "named_people"
NOTE = "Genoemd in de metadata van een geïmporteerd bestand."


def pair(
    regions: Sequence[tuple[str, Box]],
    names: Sequence[str],
    faces: Sequence[tuple[str, Box]],
) -> dict[str, str]:
    """Face id -> name: each region to the free face it overlaps most (best pairs first),
    then a lone name to a lone face. Pure."""
    candidates = sorted(
        (
            (iou(box, face_box), name, face_id)
            for name, box in regions
            for face_id, face_box in faces
        ),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for score, name, face_id in candidates:
        if score < MIN_OVERLAP or face_id in chosen or name in used:
            continue
        chosen[face_id] = name
        used.add(name)
    loose = [n for n in dict.fromkeys(names) if n not in used and n not in {r for r, _ in regions}]
    free = [f for f, _ in faces if f not in chosen]
    if len(loose) == 1 and len(free) == 1 and len(faces) == 1:
        chosen[free[0]] = loose[0]
    return chosen


def _parse(value: Any) -> tuple[list[tuple[str, Box]], list[str]]:
    if not isinstance(value, Mapping):
        return [], []
    regions = []
    for item in value.get("regions") or []:
        try:
            box = item["box"]
            regions.append((str(item["name"]), Box(*(float(box[k]) for k in ("x", "y", "w", "h")))))
        except (KeyError, TypeError, ValueError):
            continue
    names = [str(n) for n in value.get("names") or [] if n]
    return regions, names


def suggest_named_people(session: Session, asset_id: str) -> int:
    """Turn the names waiting on `asset_id` into suggestions; return how many faces got one."""
    asset = session.get(Asset, asset_id)
    if asset is None or not isinstance(asset.meta, dict) or KEY not in asset.meta:
        return 0
    regions, names = _parse(asset.meta.get(KEY))
    asset.meta = {k: v for k, v in asset.meta.items() if k != KEY}
    session.add(asset)
    faces = list(
        session.exec(
            select(Face).where(
                Face.asset_id == asset_id,
                col(Face.state).in_((FaceState.unknown, FaceState.suggested)),
            )
        )
    )
    boxes = [(f.id, Box(f.box_x, f.box_y, f.box_w, f.box_h)) for f in faces]
    chosen = pair(regions, names, boxes)
    by_id = {f.id: f for f in faces}
    moment = now()
    for face_id, name in chosen.items():
        face = by_id[face_id]
        face.state, face.person_id = FaceState.suggested, _person_named(session, name).id
        face.distance, face.cluster_id, face.updated_at = None, None, moment
        session.add(face)
    return len(chosen)


def _person_named(session: Session, name: str) -> Person:
    wanted = " ".join(name.split())[:200]
    found = session.exec(
        select(Person)
        .where(func.lower(Person.name) == wanted.lower())
        .order_by(col(Person.created_at))
    ).first()
    if found is not None:
        return found
    person = Person(name=wanted, notes=NOTE)
    session.add(person)
    session.flush()
    # Ids only: the audit chain must survive the person's erasure (art. 17).
    audit.record(
        session,
        action="person.created",
        actor_id=None,
        subject_type="person",
        subject_id=person.id,
        details={"source": "metadata"},
    )
    return person
