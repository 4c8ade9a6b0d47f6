"""What withdrawing a person's consent will do, said before it is done: the confirmation
page lists it so the privacy officer knows the consequences (GDPR art. 7(3) makes the
withdrawal itself as easy as giving consent; this only informs, it never blocks)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from dam.models import Consent, Face, FaceState, ShareLink, Usage
from gdpr.consent import consent_filters
from gdpr.recognition.identity import get_person


@dataclass(frozen=True)
class WithdrawalImpact:
    consents_in_force: int  # versions not replaced and not withdrawn yet
    confirmed_assets: int  # assets the person is confirmed on: blocked for every channel
    suggested_assets: int  # only suggested there: re-judged too, conservatively
    usages_to_recall: int  # recorded publications that go onto the take-down list
    share_links: int  # links to those assets that stop serving


def withdrawal_impact(session: Session, person_id: str) -> WithdrawalImpact:
    get_person(session, person_id)
    in_force = session.exec(
        select(func.count())
        .select_from(Consent)
        .where(Consent.person_id == person_id, consent_filters.open_versions())
    ).one()
    confirmed = session.exec(
        select(func.count(func.distinct(Face.asset_id))).where(
            Face.person_id == person_id, Face.state == FaceState.confirmed
        )
    ).one()
    # A subquery, not a list: a person can be on ten thousand assets.
    on_assets = (
        select(Face.asset_id)
        .where(Face.person_id == person_id)
        .where(col(Face.state).in_([FaceState.confirmed, FaceState.suggested]))
    )
    total = session.exec(
        select(func.count(func.distinct(Face.asset_id))).where(
            Face.person_id == person_id,
            col(Face.state).in_([FaceState.confirmed, FaceState.suggested]),
        )
    ).one()
    usages = session.exec(
        select(func.count())
        .select_from(Usage)
        .where(col(Usage.asset_id).in_(on_assets), col(Usage.recalled_at).is_(None))
    ).one()
    links = session.exec(
        select(func.count())
        .select_from(ShareLink)
        .where(col(ShareLink.asset_id).in_(on_assets), col(ShareLink.revoked_at).is_(None))
    ).one()
    return WithdrawalImpact(
        consents_in_force=int(in_force),
        confirmed_assets=int(confirmed),
        suggested_assets=int(total) - int(confirmed),
        usages_to_recall=int(usages),
        share_links=int(links),
    )
