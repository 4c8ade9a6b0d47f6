"""The privacy dashboard's review flow: one asset at a time, each undecided face confirmed
as its suggested person, as a person picked or typed by name, or dismissed.

This module only finds what to show; the decisions go through gdpr.recognition.face_decisions, as
they do on the asset page and the People pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from dam.assets import get_asset
from dam.models import Asset, Face, Person, Rendition
from gdpr.recognition import identity


@dataclass(frozen=True)
class ReviewItem:
    asset: Asset
    faces: list[Face]  # every face of the asset, in reading order
    names: dict[str, str]  # person id -> name, for the faces that have a person
    renditions: frozenset[str]  # the names of the asset's renditions

    @property
    def undecided(self) -> list[Face]:
        return [f for f in self.faces if f.state in identity.UNDECIDED]


def review_item(session: Session, asset_id: str) -> ReviewItem:
    """An asset with its faces and the names of the people they are (suggested) to be."""
    asset = get_asset(session, asset_id)
    faces = list(
        session.exec(
            select(Face)
            .where(Face.asset_id == asset_id)
            .order_by(col(Face.time_s), col(Face.box_x), col(Face.id))
        )
    )
    person_ids = {f.person_id for f in faces if f.person_id}
    names = (
        {
            pid: name
            for pid, name in session.exec(
                select(Person.id, Person.name).where(col(Person.id).in_(person_ids))
            ).all()
        }
        if person_ids
        else {}
    )
    renditions = frozenset(
        session.exec(select(Rendition.name).where(Rendition.asset_id == asset_id))
    )
    return ReviewItem(asset=asset, faces=faces, names=names, renditions=renditions)
