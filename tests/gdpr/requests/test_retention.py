"""Retention with a moved clock: embeddings of unnamed faces expire, idle people without
consent or confirmed faces are proposed for erasure (once), and the periodic task runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from dam import audit, clock
from dam.models import (
    Asset,
    AssetKind,
    AssetStatus,
    AuditEntry,
    Consent,
    Face,
    FaceEmbedding,
    FaceState,
    Notification,
    Person,
)
from dam.runtime import Runtime
from dam.settings import Settings
from gdpr.requests import retention

START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def moved(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the one clock Beeldbank reads."""

    def move(to: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: to)

    return move


def make_asset(session: Session, n: int) -> str:
    asset = Asset(
        kind=AssetKind.image, status=AssetStatus.ready, filename=f"{n}.jpg",
        mime="image/jpeg", size=1, sha256=f"{n:064x}",
    )  # fmt: skip
    session.add(asset)
    session.flush()
    return asset.id


def make_face(
    session: Session, asset_id: str, *, state: FaceState, person_id: str | None = None
) -> str:
    face = Face(
        asset_id=asset_id, box_x=0.1, box_y=0.1, box_w=0.2, box_h=0.2, score=0.99,
        detector="test", state=state, person_id=person_id, created_at=START,
        decided_at=START if person_id else None,
    )  # fmt: skip
    session.add(face)
    session.flush()
    session.add(FaceEmbedding(face_id=face.id, model="m", key_id="k", sealed=b"\x01" * 40))
    return face.id


def embedded(session: Session) -> set[str]:
    return set(session.exec(select(FaceEmbedding.face_id)))


def test_embeddings_of_unnamed_faces_expire_after_the_set_days(
    rt: Runtime, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(retention_cluster_days=30)
    with rt.session() as session:
        person = Person(name="A", created_at=START, updated_at=START)
        session.add(person)
        session.flush()
        asset_id = make_asset(session, 1)
        unknown = make_face(session, asset_id, state=FaceState.unknown)
        named = make_face(session, asset_id, state=FaceState.confirmed, person_id=person.id)
        suggested = make_face(session, asset_id, state=FaceState.suggested, person_id=person.id)
        session.commit()

        day_29 = retention.apply_retention(session, settings=settings, at=START + timedelta(29))
        session.commit()
        assert day_29.embeddings_deleted == 0
        assert embedded(session) == {unknown, named, suggested}

        day_31 = retention.apply_retention(session, settings=settings, at=START + timedelta(31))
        session.commit()
        assert day_31.embeddings_deleted == 1
        assert embedded(session) == {named, suggested}
        face = session.get(Face, unknown)
        assert face is not None and face.state == FaceState.unknown  # the face stays
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "retention.embeddings_deleted")
        ).one()
        assert entry.details["embeddings"] == 1
        assert audit.verify(session).ok


def people(session: Session) -> dict[str, str]:
    """name -> id for the proposal tests."""
    return {p.name: p.id for p in session.exec(select(Person))}


def proposals(rt: Runtime) -> set[str]:
    with rt.session() as session:  # a short read: the task writes in between
        query = select(Notification.subject_id).where(Notification.kind == retention.PROPOSED)
        return set(session.exec(query))


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The runtime of this module's tests proposes people idle for 100 days."""
    return settings_factory(retention_person_days=100)


def test_idle_people_without_consent_or_faces_are_proposed_once(
    rt: Runtime,
    moved: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert rt.settings.retention_person_days == 100
    with rt.session() as session:
        for name in ("nobody", "with consent", "with face", "expired consent", "active"):
            session.add(Person(name=name, created_at=START, updated_at=START))
        session.flush()
        ids = people(session)
        asset_id = make_asset(session, 2)
        make_face(session, asset_id, state=FaceState.confirmed, person_id=ids["with face"])
        # A suggestion is no confirmed face: it does not keep anyone.
        make_face(session, asset_id, state=FaceState.suggested, person_id=ids["nobody"])
        session.add(Consent(person_id=ids["with consent"], channels=["internal"], granted_at=START))
        session.add(
            Consent(
                person_id=ids["expired consent"],
                channels=["internal"],
                granted_at=START,
                valid_until=START + timedelta(days=50),
                created_at=START,
            )
        )
        session.commit()
        # Something happened about "active" on day 90: an audit entry naming them.
        monkeypatch.setattr(audit, "now", lambda: START + timedelta(days=90))
        audit.record(session, action="face.confirmed", details={"person_id": ids["active"]})
        session.commit()

        moved(START + timedelta(days=99))
        retention.run(rt)
        assert proposals(rt) == set()

        moved(START + timedelta(days=101))
        retention.run(rt)
        assert proposals(rt) == {ids["nobody"]}  # the consent ended on day 50 only

        moved(START + timedelta(days=151))
        retention.run(rt)
        assert proposals(rt) == {ids["nobody"], ids["expired consent"]}
        retention.run(rt)  # nothing twice
        assert len(proposals(rt)) == 2
        notice = session.exec(
            select(Notification).where(Notification.subject_id == ids["nobody"])
        ).one()
        assert notice.subject_type == "person" and notice.params["days"] == 100
        assert notice.dedupe_key == retention.dedupe_key(ids["nobody"])
        assert "nobody" not in str(notice.params)  # ids and dates only
        session.commit()  # end the read: SQLite transactions here take the write lock

        moved(START + timedelta(days=191))
        rt.run_periodic()  # as the sweeper runs it
        assert proposals(rt) == {ids["nobody"], ids["expired consent"], ids["active"]}

        # A new consent takes the proposal back; a later lapse would propose again.
        session.add(
            Consent(
                person_id=ids["nobody"], channels=["internal"], granted_at=START + timedelta(190)
            )
        )
        session.commit()
        retention.run(rt)
        assert ids["nobody"] not in proposals(rt)
        assert (
            session.exec(
                select(Notification).where(col(Notification.subject_id) == ids["nobody"])
            ).first()
            is None
        )
