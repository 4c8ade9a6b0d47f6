"""Derived state cannot drift (SQLite and PostgreSQL): Hypothesis drives random sequences
of service-level operations on a library; whenever it checks, and at the end of every
example, the change feed is empty, every asset's stored verdict equals a fresh judgement
of its facts, and every document in the search index equals one built afresh from the
database (compared by the documents' fingerprints: a hash of every field)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from dam import assets, collections
from dam.clock import now
from dam.errors import DomainError
from dam.models import AssetKind, FaceState, Role, User
from dam.runtime import Runtime
from gdpr.consent import consents
from gdpr.judgement.verdict_check import check_verdicts
from gdpr.publishing import usages
from gdpr.recognition import identity, people
from gdpr.requests.erasure import AssetsChoice, erase_person
from ingest.video import captions
from search.maintenance import check_index
from search.service import service_for
from tests.feed_factories import make_asset, make_face, make_user

TITLES = st.sampled_from(["", "Graslei", "Belfort van Brugge", "Markt"])
NAMES = st.sampled_from(["Jan Peeters", "An Claes", "Els Wouters"])
CHANNELS = st.lists(
    st.sampled_from(["internal", "intranet", "website", "social"]), min_size=1, unique=True
)
DAYS = st.sampled_from([-30, -1, 1, 30])  # from today
LICENCES = st.sampled_from(
    [
        {},
        {"type": "own"},
        {"type": "stock", "channels": ["internal", "website"]},
        {"type": "stock", "valid_until": str(date.today() - timedelta(days=2))},
    ]
)
VTT = b"WEBVTT\n\n00:00.000 --> 00:01.000\nDag allemaal\n"


class Library(RuleBasedStateMachine):
    """A library as people change it, through the services and the runtime's sessions
    (what a request uses); the inline queue drains the feed after each commit."""

    rt: Runtime
    actor: User

    assets = Bundle("assets")
    faces = Bundle("faces")
    people = Bundle("people")
    collections = Bundle("collections")
    consents = Bundle("consents")

    def __init__(self) -> None:
        super().__init__()
        empty_library(self.rt)

    def _do(self, change: object) -> object:
        """Run one service call; refusals (a deleted asset, a withdrawn consent) are fine."""
        try:
            with self.rt.session() as session:
                return change(session)  # type: ignore[operator]
        except DomainError:
            return None

    # --- a start, so that every rule can be drawn from the first step on --------------

    @initialize(target=assets, video=st.booleans())
    def some_assets(self, video: bool) -> object:
        kind = AssetKind.video if video else AssetKind.image
        return multiple(*(make_asset(self.rt, t, kind=kind) for t in ("Graslei", "Markt")))

    @initialize(target=collections)
    def a_collection(self) -> str:
        return self.new_collection("Brugge")

    @initialize(target=people)
    def a_person(self) -> str:
        return self.new_person("Jan Peeters", False)

    # --- assets -----------------------------------------------------------------------

    @rule(target=assets, title=TITLES, video=st.booleans(), checked=st.booleans())
    def new_asset(self, title: str, video: bool, checked: bool) -> str:
        kind = AssetKind.video if video else AssetKind.image
        return make_asset(self.rt, title, kind=kind, owner=self.actor, faces_checked=checked)

    @rule(asset=assets, title=TITLES, alt=st.sampled_from(["", "Een markt"]), more=st.booleans())
    def edit(self, asset: str, title: str, alt: str, more: bool) -> None:
        data = assets.AssetUpdate(title=title, alt_text=alt, undetected_people=more)
        self._do(lambda s: assets.update_asset(s, asset_id=asset, data=data, actor=self.actor))

    @rule(asset=assets, tags=st.lists(st.sampled_from(["gent", "brugge", "zomer"]), unique=True))
    def tag(self, asset: str, tags: list[str]) -> None:
        data = assets.AssetUpdate(tags=tags)
        self._do(lambda s: assets.update_asset(s, asset_id=asset, data=data, actor=self.actor))

    @rule(asset=assets, licence=LICENCES)
    def licence(self, asset: str, licence: dict[str, object]) -> None:
        data = assets.AssetUpdate(licence=licence)
        self._do(lambda s: assets.update_asset(s, asset_id=asset, data=data, actor=self.actor))

    @rule(asset=assets, days=st.none() | DAYS)
    def embargo(self, asset: str, days: int | None) -> None:
        until = None if days is None else now() + timedelta(days=days)
        data = assets.AssetUpdate(embargo_until=until)
        self._do(lambda s: assets.update_asset(s, asset_id=asset, data=data, actor=self.actor))

    @rule(asset=assets)
    def caption(self, asset: str) -> None:
        self._do(
            lambda s: captions.add_caption(
                s, asset_id=asset, language="nl", data=VTT, actor=self.actor
            )
        )

    @rule(asset=assets)
    def uncaption(self, asset: str) -> None:
        self._do(
            lambda s: captions.delete_caption(s, asset_id=asset, language="nl", actor=self.actor)
        )

    @rule(asset=assets, channel=st.sampled_from(["website", "social"]))
    def usage(self, asset: str, channel: str) -> None:
        data = usages.UsageInput(channel=channel, url="https://example.test/nieuws")
        self._do(
            lambda s: usages.record_usage(
                s, asset_id=asset, data=data, actor=self.actor, settings=self.rt.settings
            )
        )

    @rule(asset=assets)
    def delete(self, asset: str) -> None:
        self._do(
            lambda s: assets.delete_asset(s, asset_id=asset, actor=self.actor, blobs=self.rt.blobs)
        )

    # --- collections ------------------------------------------------------------------

    @rule(target=collections, title=st.sampled_from(["Brugge", "Gent"]))
    def new_collection(self, title: str) -> str:
        data = collections.CollectionCreate(title=title)
        made = self._do(lambda s: collections.create_collection(s, data=data, owner=self.actor))
        return made.id  # type: ignore[attr-defined]

    @rule(collection=collections, asset=assets)
    def collect(self, collection: str, asset: str) -> None:
        self._do(
            lambda s: collections.add_assets(
                s, collection_id=collection, asset_ids=[asset], actor=self.actor
            )
        )

    @rule(collection=collections, asset=assets)
    def uncollect(self, collection: str, asset: str) -> None:
        self._do(
            lambda s: collections.remove_assets(
                s, collection_id=collection, asset_ids=[asset], actor=self.actor
            )
        )

    @rule(collection=collections, title=st.sampled_from(["Brugge", "Oostende"]))
    def rename_collection(self, collection: str, title: str) -> None:
        data = collections.CollectionUpdate(title=title)
        self._do(
            lambda s: collections.update_collection(
                s, collection_id=collection, data=data, actor=self.actor
            )
        )

    @rule(collection=collections)
    def delete_collection(self, collection: str) -> None:
        self._do(
            lambda s: collections.delete_collection(s, collection_id=collection, actor=self.actor)
        )

    # --- faces and people -------------------------------------------------------------

    @rule(target=people, name=NAMES, minor=st.booleans())
    def new_person(self, name: str, minor: bool) -> str:
        data = people.PersonCreate(name=name, is_minor=minor)
        made = self._do(lambda s: people.create_person(s, data=data, actor=self.actor))
        return made.id  # type: ignore[attr-defined]

    @rule(target=faces, asset=assets, suggested=st.none() | people)
    def new_face(self, asset: str, suggested: str | None) -> str:
        state = FaceState.suggested if suggested else FaceState.unknown
        try:
            return make_face(self.rt, asset, state=state, person_id=suggested)
        except Exception:  # the asset or person was deleted meanwhile
            return ""

    @rule(face=faces, person=people)
    def confirm(self, face: str, person: str) -> None:
        self._do(
            lambda s: identity.confirm_face(s, face_id=face, person_id=person, actor=self.actor)
        )

    @rule(face=faces)
    def dismiss(self, face: str) -> None:
        self._do(
            lambda s: identity.dismiss_face(
                s, face_id=face, reason="geen gezicht", actor=self.actor
            )
        )

    @rule(face=faces)
    def split(self, face: str) -> None:
        self._do(lambda s: identity.split_face(s, face_id=face, actor=self.actor))

    @rule(person=people, name=NAMES, hidden=st.booleans(), minor=st.booleans())
    def change_person(self, person: str, name: str, hidden: bool, minor: bool) -> None:
        data = people.PersonUpdate(name=name, hidden=hidden, is_minor=minor)
        self._do(lambda s: people.update_person(s, person_id=person, data=data, actor=self.actor))

    @rule(person=people, other=people)
    def merge(self, person: str, other: str) -> None:
        self._do(
            lambda s: people.merge_people(s, person_id=person, other_id=other, actor=self.actor)
        )

    @rule(person=people)
    def erase(self, person: str) -> None:
        self._do(
            lambda s: erase_person(
                s,
                person_id=person,
                assets=AssetsChoice.delete,  # redacting needs real files
                actor=self.actor,
                blobs=self.rt.blobs,
                settings=self.rt.settings,
            )
        )

    # --- consents ---------------------------------------------------------------------

    def _consent(self, channels: list[str], start: int, end: int | None) -> consents.ConsentInput:
        today = date.today()
        granted = today + timedelta(days=start)
        until = None if end is None else granted + timedelta(days=abs(end))
        return consents.ConsentInput(
            channels=channels, granted_at=granted, valid_until=until, guardian_name="Voogd"
        )

    @rule(target=consents, person=people, channels=CHANNELS, start=DAYS, end=st.none() | DAYS)
    def give_consent(self, person: str, channels: list[str], start: int, end: int | None) -> str:
        data = self._consent(channels, start, end)
        done = self._do(
            lambda s: consents.record_consent(
                s, person_id=person, data=data, actor=self.actor, settings=self.rt.settings
            )
        )
        return done.consent.id if done is not None else ""  # type: ignore[attr-defined]

    @rule(target=consents, consent=consents, channels=CHANNELS, start=DAYS)
    def replace_consent(self, consent: str, channels: list[str], start: int) -> str:
        data = self._consent(channels, start, None)
        done = self._do(
            lambda s: consents.replace_consent(
                s, consent_id=consent, data=data, actor=self.actor, settings=self.rt.settings
            )
        )
        return done.consent.id if done is not None else ""  # type: ignore[attr-defined]

    @rule(consent=consents)
    def withdraw(self, consent: str) -> None:
        data = consents.WithdrawInput(reason="ingetrokken")
        self._do(
            lambda s: consents.withdraw_consent(
                s, consent_id=consent, data=data, actor=self.actor, settings=self.rt.settings
            )
        )

    # --- the invariant ----------------------------------------------------------------

    @rule()
    def check(self) -> None:
        assert_derived_state_is_fresh(self.rt)

    def teardown(self) -> None:
        assert_derived_state_is_fresh(self.rt)


# Children first; the users, the audit log and the rest stay.
_TABLES = [
    *("collection_asset", "collection", "asset_verdict", "verdict_set", "usage", "caption"),
    *("asset_tag", "face", "consent", "person", "notification", "asset"),
    *("change_feed", "search_dirty"),
]


def empty_library(rt: Runtime) -> None:
    """Every example starts from an empty library, so a failure shrinks to its cause."""
    tables = SQLModel.metadata.tables
    with rt.engine.begin() as conn:
        ids = list(conn.execute(select(tables["asset"].c.id)).scalars())
        for name in _TABLES:
            conn.execute(tables[name].delete())
    sync = service_for(rt).sync
    sync.mark(ids)  # their documents leave the index (their assets are gone)
    assert sync.flush()


def assert_derived_state_is_fresh(rt: Runtime) -> None:
    assert rt.changes.backlog() == 0, "changes were recorded but never drained"
    service = service_for(rt)
    assert service.sync.flush()
    judged = check_verdicts(rt)
    assert (judged.stale, judged.unjudged) == ([], []), "stored verdicts differ from fresh ones"
    indexed = check_index(service)
    assert (indexed.missing, indexed.stale, indexed.orphaned) == ([], [], []), (
        "search documents differ from fresh ones"
    )


@pytest.mark.timeout(900)  # passing takes 20-40 s; shrinking a failure takes longer
def test_verdicts_and_search_documents_follow_every_change(rt: Runtime) -> None:
    Library.rt, Library.actor = rt, make_user(rt, Role.admin)
    run_state_machine_as_test(
        Library,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_the_check_sees_a_change_behind_the_feeds_back(rt: Runtime) -> None:
    """The invariant's own check can fail: a title changed with plain SQL is reported."""
    asset_id = make_asset(rt, "Graslei")
    assert_derived_state_is_fresh(rt)
    with Session(rt.engine) as session:
        session.connection().exec_driver_sql(
            "UPDATE asset SET title = 'Belfort', alt_text = 'Toren' WHERE id = ?"
            if rt.engine.dialect.name == "sqlite"
            else "UPDATE asset SET title = 'Belfort', alt_text = 'Toren' WHERE id = %s",
            (asset_id,),
        )
        session.commit()
    assert check_index(service_for(rt)).stale == [asset_id]
    assert check_verdicts(rt).stale == [asset_id]
