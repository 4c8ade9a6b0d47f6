"""The verdict's rules, example by example and as properties over generated histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dam.models import FaceState, VerdictStatus
from gdpr.judgement.verdict import (
    AssetTerms,
    ConsentTerms,
    FaceTerms,
    PersonTerms,
    Rules,
    judge,
    judge_all,
    judge_redacted,
)

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
CHANNELS = ("internal", "intranet", "website", "social", "print", "press")


def consent(
    cid: str = "c1",
    pid: str = "p1",
    channels: tuple[str, ...] = CHANNELS,
    granted: datetime = T0 - 10 * DAY,
    until: datetime | None = None,
    withdrawn: datetime | None = None,
    guardian: bool = False,
    superseded: bool = False,
) -> ConsentTerms:
    return ConsentTerms(
        cid, pid, frozenset(channels), granted, until, withdrawn, guardian, superseded
    )


def photo(*faces: FaceTerms, **kwargs: object) -> AssetTerms:
    return AssetTerms(id="a1", faces=tuple(faces), alt_text="Two cyclists", **kwargs)  # type: ignore[arg-type]


def confirmed(fid: str, pid: str) -> FaceTerms:
    return FaceTerms(fid, FaceState.confirmed, pid)


def codes(verdict: object) -> list[str]:
    return [r.code for r in verdict.reasons]  # type: ignore[attr-defined]


# --- examples -------------------------------------------------------------------------------


def test_no_faces_is_cleared_with_a_reason() -> None:
    v = judge(photo(), {}, "website", T0)
    assert v.status == VerdictStatus.cleared
    assert codes(v) == ["no_people"]


def test_faces_not_looked_for_yet_needs_review() -> None:
    v = judge(photo(faces_checked=False), {}, "internal", T0)
    assert v.status == VerdictStatus.review
    assert codes(v) == ["faces_not_checked"]


def test_valid_consent_clears_and_names_its_end() -> None:
    people = {"p1": PersonTerms("p1", consents=(consent(until=T0 + 5 * DAY),))}
    v = judge(photo(confirmed("f1", "p1")), people, "website", T0)
    assert v.status == VerdictStatus.cleared
    assert codes(v) == ["consent_valid"]
    assert v.reasons[0].at == T0 + 5 * DAY
    assert v.next_change_at == T0 + 5 * DAY


def test_unknown_and_suggested_faces_need_review() -> None:
    faces = (FaceTerms("f1", FaceState.unknown), FaceTerms("f2", FaceState.suggested, "p1"))
    v = judge(photo(*faces), {}, "internal", T0)
    assert v.status == VerdictStatus.review
    assert codes(v) == ["faces_suggested", "faces_unidentified"]


def test_dismissed_faces_do_not_count() -> None:
    v = judge(photo(FaceTerms("f1", FaceState.dismissed)), {}, "internal", T0)
    assert v.status == VerdictStatus.cleared


def test_each_consent_failure_blocks_with_its_own_reason() -> None:
    cases = {
        "consent_missing": (),
        "consent_channel": (consent(channels=("internal",)),),
        "consent_expired": (consent(until=T0 - DAY),),
        "consent_withdrawn": (consent(withdrawn=T0 - DAY),),
        "consent_not_started": (consent(granted=T0 + DAY),),
    }
    for code, consents in cases.items():
        people = {"p1": PersonTerms("p1", consents=consents)}
        v = judge(photo(confirmed("f1", "p1")), people, "website", T0)
        assert v.status == VerdictStatus.blocked, code
        assert codes(v) == [code]


def test_a_minor_needs_a_guardian() -> None:
    bare = {"p1": PersonTerms("p1", is_minor=True, consents=(consent(),))}
    assert codes(judge(photo(confirmed("f1", "p1")), bare, "print", T0)) == ["guardian_missing"]
    signed = {"p1": PersonTerms("p1", is_minor=True, consents=(consent(guardian=True),))}
    assert judge(photo(confirmed("f1", "p1")), signed, "print", T0).status == "cleared"


def test_a_superseded_version_clears_nothing() -> None:
    people = {"p1": PersonTerms("p1", consents=(consent(superseded=True),))}
    assert judge(photo(confirmed("f1", "p1")), people, "press", T0).status == "blocked"


def test_asset_level_blockers() -> None:
    assert codes(judge(photo(embargo_until=T0 + DAY), {}, "press", T0)) == ["embargo", "no_people"]
    assert judge(photo(embargo_until=T0 - DAY), {}, "press", T0).status == "cleared"
    limited = photo(licence_channels=frozenset({"print"}))
    assert judge(limited, {}, "print", T0).status == "cleared"
    assert codes(judge(limited, {}, "website", T0))[0] == "licence_channel"
    expired = photo(licence_until=T0)
    assert codes(judge(expired, {}, "internal", T0))[0] == "licence_expired"
    bare = AssetTerms(id="a1")
    assert codes(judge(bare, {}, "website", T0))[0] == "alt_text_missing"
    assert judge(bare, {}, "intranet", T0).status == "cleared"
    assert codes(judge(photo(restricted=True), {}, "internal", T0))[0] == "restricted"


def test_an_unknown_licence_needs_review_on_external_channels_only() -> None:
    unknown = photo(licence_unknown=True)
    for channel in ("website", "social", "print", "press"):
        v = judge(unknown, {}, channel, T0)
        assert v.status == VerdictStatus.review, channel
        assert codes(v) == ["licence_unknown", "no_people"]
    for channel in ("internal", "intranet"):
        assert judge(unknown, {}, channel, T0).status == VerdictStatus.cleared
    # Blocking reasons still win; blurring faces does not make a licence known.
    assert judge(photo(licence_unknown=True, restricted=True), {}, "website", T0).status == (
        VerdictStatus.blocked
    )
    redacted, _ = judge_redacted(
        photo(FaceTerms("f1", FaceState.unknown), licence_unknown=True), {}, "website", T0
    )
    assert codes(redacted) == ["licence_unknown", "no_people"]
    # The channels are configurable (DAM_LICENCE_CHANNELS).
    rules = Rules(licence_channels=frozenset({"intranet"}))
    assert judge(unknown, {}, "intranet", T0, rules).status == VerdictStatus.review
    assert judge(unknown, {}, "website", T0, rules).status == VerdictStatus.cleared


def test_people_not_detected_forces_review() -> None:
    v = judge(photo(undetected_people=True), {}, "internal", T0)
    assert v.status == VerdictStatus.review
    assert codes(v) == ["people_not_detected"]


def test_custom_channels() -> None:
    rules = Rules(channels=("internal", "beurs"), alt_text_channels=frozenset({"beurs"}))
    verdicts = judge_all(AssetTerms(id="a"), {}, T0, rules)
    assert [(v.channel, v.status) for v in verdicts] == [
        ("internal", "cleared"),
        ("beurs", "blocked"),
    ]


# --- properties -------------------------------------------------------------------------------

PEOPLE = ("p1", "p2", "p3")
moments = st.integers(min_value=-40, max_value=40).map(lambda d: T0 + d * DAY / 2)


@st.composite
def consents_for(draw: st.DrawFn, pid: str) -> tuple[ConsentTerms, ...]:
    out = []
    for i in range(draw(st.integers(0, 3))):
        granted = draw(moments)
        until = draw(st.none() | moments.filter(lambda m, g=granted: m > g))
        out.append(
            consent(
                cid=f"{pid}-c{i}",
                pid=pid,
                channels=tuple(draw(st.sets(st.sampled_from(CHANNELS), min_size=1))),
                granted=granted,
                until=until,
                withdrawn=draw(st.none() | moments),
                guardian=draw(st.booleans()),
                superseded=draw(st.booleans()),
            )
        )
    return tuple(out)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[AssetTerms, dict[str, PersonTerms]]:
    faces = []
    for i in range(draw(st.integers(0, 4))):
        state = draw(st.sampled_from(list(FaceState)))
        pid = draw(st.sampled_from(PEOPLE)) if state != FaceState.unknown else None
        faces.append(FaceTerms(f"f{i}", state, pid))
    people = {
        pid: PersonTerms(pid, is_minor=draw(st.booleans()), consents=draw(consents_for(pid)))
        for pid in PEOPLE
        if draw(st.booleans())
    }
    asset = AssetTerms(
        id="a",
        faces=tuple(faces),
        faces_checked=draw(st.booleans()),
        undetected_people=draw(st.booleans()),
        alt_text=draw(st.sampled_from(["", "alt"])),
        embargo_until=draw(st.none() | moments),
        licence_channels=draw(st.none() | st.frozensets(st.sampled_from(CHANNELS))),
        licence_until=draw(st.none() | moments),
    )
    return asset, people


def valid_for(person: PersonTerms | None, channel: str, at: datetime) -> bool:
    """An independent statement of what a valid consent is."""
    if person is None:
        return False
    return any(
        not c.superseded
        and channel in c.channels
        and c.granted_at <= at
        and (c.valid_until is None or at < c.valid_until)
        and (c.withdrawn_at is None or at < c.withdrawn_at)
        and (c.has_guardian or not person.is_minor)
        for c in person.consents
    )


@settings(max_examples=400, deadline=None)
@given(scenarios(), st.sampled_from(CHANNELS), moments)
def test_never_cleared_while_a_counted_face_lacks_valid_consent(
    scenario: tuple[AssetTerms, dict[str, PersonTerms]], channel: str, at: datetime
) -> None:
    asset, people = scenario
    verdict = judge(asset, people, channel, at)
    if verdict.status == VerdictStatus.cleared:
        for face in asset.faces:
            if face.state == FaceState.dismissed:
                continue
            assert face.state == FaceState.confirmed
            assert valid_for(people.get(face.person_id or ""), channel, at)


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(CHANNELS), moments)
def test_withdrawal_or_expiry_always_ends_cleared(
    scenario: tuple[AssetTerms, dict[str, PersonTerms]], channel: str, at: datetime
) -> None:
    asset, people = scenario
    on_it = sorted(
        {f.person_id for f in asset.faces if f.state == FaceState.confirmed and f.person_id}
    )
    if not on_it:
        return
    pid = on_it[0]
    person = people.get(pid)
    if person is None:
        return
    withdrawn = PersonTerms(
        pid,
        person.is_minor,
        tuple(
            ConsentTerms(
                c.id,
                c.person_id,
                c.channels,
                c.granted_at,
                c.valid_until,
                min(c.withdrawn_at or at, at),
                c.has_guardian,
                c.superseded,
            )
            for c in person.consents
        ),
    )
    assert judge(asset, {**people, pid: withdrawn}, channel, at).status != "cleared"
    expired = PersonTerms(
        pid,
        person.is_minor,
        tuple(
            ConsentTerms(
                c.id,
                c.person_id,
                c.channels,
                c.granted_at,
                at,
                c.withdrawn_at,
                c.has_guardian,
                c.superseded,
            )
            for c in person.consents
            if c.granted_at < at
        ),
    )
    assert judge(asset, {**people, pid: expired}, channel, at).status != "cleared"


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(CHANNELS), moments, st.randoms(use_true_random=False))
def test_the_verdict_does_not_depend_on_the_order_of_events(
    scenario: tuple[AssetTerms, dict[str, PersonTerms]], channel: str, at: datetime, rnd: object
) -> None:
    asset, people = scenario
    faces = list(asset.faces)
    rnd.shuffle(faces)  # type: ignore[attr-defined]
    shuffled_people = {}
    for pid in rnd.sample(sorted(people), len(people)):  # type: ignore[attr-defined]
        consents = list(people[pid].consents)
        rnd.shuffle(consents)  # type: ignore[attr-defined]
        shuffled_people[pid] = PersonTerms(pid, people[pid].is_minor, tuple(consents))
    reordered = AssetTerms(**{**asset.__dict__, "faces": tuple(faces)})
    assert judge(reordered, shuffled_people, channel, at) == judge(asset, people, channel, at)


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(CHANNELS), moments, st.floats(0.0, 1.0))
def test_nothing_changes_before_the_announced_next_change(
    scenario: tuple[AssetTerms, dict[str, PersonTerms]], channel: str, at: datetime, frac: float
) -> None:
    asset, people = scenario
    verdict = judge(asset, people, channel, at)
    horizon = verdict.next_change_at or at + 400 * DAY
    later = at + (horizon - at) * frac
    if later >= horizon:
        return
    again = judge(asset, people, channel, later)
    assert (again.status, [r.code for r in again.reasons]) == (
        verdict.status,
        [r.code for r in verdict.reasons],
    )
