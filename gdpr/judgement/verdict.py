"""The publishability verdict: one pure function of an asset's facts, a channel and a
moment. Nothing here reads the database or the clock; gdpr/judgement/verdicts.py feeds it.

For a channel and a moment an asset is `cleared`, `review` or `blocked`, with reasons:

- every face a person has not dismissed must belong to a confirmed person holding a
  consent version in force (not superseded) that covers the channel, has started, has not
  ended and is not withdrawn; a minor's consent must name a guardian. Otherwise
  `blocked`, naming the person and what is wrong;
- an unidentified face (unknown, or only suggested by the matcher), a person's note that
  the picture shows people the detector missed, or faces not looked for yet: `review`;
- an embargo, a stock licence's channels and end date, and missing alt text on the web
  channels block with their own reasons;
- an unknown licence (nobody said it is own work or licensed) gives `review` on the
  external channels (website, social media, print, press): the file may belong to
  someone who never allowed its use.

The result also says when it next changes by itself (the earliest start, end or
withdrawal date still ahead), so a cache can be refreshed exactly then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

from dam.models import FaceState, VerdictStatus

DEFAULT_CHANNELS = ("internal", "intranet", "website", "social", "print", "press")
DEFAULT_ALT_TEXT_CHANNELS = ("website", "social")
DEFAULT_LICENCE_CHANNELS = ("website", "social", "print", "press")

# The failure reported for a person without a valid consent, most telling first: when
# several consents fail for different reasons, the verdict names the first that applies.
_PERSON_FAILURES = (
    "consent_withdrawn",
    "consent_expired",
    "consent_not_started",
    "guardian_missing",
    "consent_channel",
    "consent_missing",
)

BLOCKING = frozenset(
    {
        "restricted",
        "embargo",
        "licence_channel",
        "licence_expired",
        "alt_text_missing",
        *_PERSON_FAILURES,
    }
)
REVIEW = frozenset(
    {
        "faces_unidentified",
        "faces_suggested",
        "people_not_detected",
        "faces_not_checked",
        "licence_unknown",
    }
)
CLEARING = frozenset({"no_people", "consent_valid"})


@dataclass(frozen=True)
class ConsentTerms:
    id: str
    person_id: str
    channels: frozenset[str]
    granted_at: datetime
    valid_until: datetime | None = None
    withdrawn_at: datetime | None = None
    has_guardian: bool = False
    superseded: bool = False  # a newer version replaced it: history only


@dataclass(frozen=True)
class FaceTerms:
    id: str
    state: FaceState
    person_id: str | None = None


@dataclass(frozen=True)
class AssetTerms:
    id: str
    faces: tuple[FaceTerms, ...] = ()
    faces_checked: bool = True  # face detection has finished for this asset
    undetected_people: bool = False
    alt_text: str = ""
    embargo_until: datetime | None = None
    licence_channels: frozenset[str] | None = None  # None: the licence does not limit them
    licence_until: datetime | None = None
    restricted: bool = False  # consent evidence: never published
    licence_unknown: bool = False  # neither own work nor licensed (yet)


@dataclass(frozen=True)
class Reason:
    code: str
    person_id: str | None = None
    at: datetime | None = None  # the date the reason is about (end, start, withdrawal)
    count: int | None = None

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"code": self.code}
        if self.person_id is not None:
            data["person_id"] = self.person_id
        if self.at is not None:
            data["at"] = self.at.isoformat()
        if self.count is not None:
            data["count"] = self.count
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Reason:
        at = data.get("at")
        count = data.get("count")
        person = data.get("person_id")
        return cls(
            code=str(data["code"]),
            person_id=str(person) if person is not None else None,
            at=datetime.fromisoformat(at) if isinstance(at, str) else None,
            count=int(count) if isinstance(count, int) else None,
        )


@dataclass(frozen=True)
class Verdict:
    channel: str
    status: VerdictStatus
    reasons: tuple[Reason, ...]
    next_change_at: datetime | None = None


@dataclass(frozen=True)
class Rules:
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    alt_text_channels: frozenset[str] = field(
        default_factory=lambda: frozenset(DEFAULT_ALT_TEXT_CHANNELS)
    )
    # Channels that leave the organisation: an unknown licence is not enough for them.
    licence_channels: frozenset[str] = field(
        default_factory=lambda: frozenset(DEFAULT_LICENCE_CHANNELS)
    )


@dataclass(frozen=True)
class PersonTerms:
    id: str
    is_minor: bool = False
    consents: tuple[ConsentTerms, ...] = ()


def judge(
    asset: AssetTerms,
    people: Mapping[str, PersonTerms],
    channel: str,
    at: datetime,
    rules: Rules | None = None,
) -> Verdict:
    """The verdict of `asset` for `channel` at moment `at` (timezone-aware)."""
    return _judge(asset, _look_at_faces(asset, people), people, channel, at, rules or Rules())


def judge_all(
    asset: AssetTerms,
    people: Mapping[str, PersonTerms],
    at: datetime,
    rules: Rules | None = None,
) -> list[Verdict]:
    """The verdict for every channel of `rules` (the faces are looked at once)."""
    rules = rules or Rules()
    faces = _look_at_faces(asset, people)
    return [_judge(asset, faces, people, channel, at, rules) for channel in rules.channels]


@dataclass(frozen=True)
class _Faces:
    """What an asset's faces say, whatever the channel."""

    counted: int  # not dismissed
    unidentified: int
    suggested: int
    confirmed_people: tuple[str, ...]
    moments: tuple[datetime, ...]  # consent dates of the people on it (confirmed or suggested)


def _look_at_faces(asset: AssetTerms, people: Mapping[str, PersonTerms]) -> _Faces:
    counted = [f for f in asset.faces if f.state != FaceState.dismissed]
    unidentified = sum(1 for f in counted if f.state == FaceState.unknown or f.person_id is None)
    suggested = {
        f.person_id: None
        for f in counted
        if f.state == FaceState.suggested and f.person_id is not None
    }
    n_suggested = sum(
        1 for f in counted if f.state == FaceState.suggested and f.person_id is not None
    )
    confirmed = sorted(
        {f.person_id for f in counted if f.state == FaceState.confirmed and f.person_id}
    )
    # A suggested person's consent dates can change the verdict once confirmed; watching
    # them too costs a spurious refresh at worst.
    moments: list[datetime] = []
    for person_id in sorted({*confirmed, *(p for p in suggested if p)}):
        person = people.get(person_id)
        if person is not None:
            moments.extend(_consent_moments(person.consents))
    return _Faces(len(counted), unidentified, n_suggested, tuple(confirmed), tuple(moments))


def _judge(
    asset: AssetTerms,
    faces: _Faces,
    people: Mapping[str, PersonTerms],
    channel: str,
    at: datetime,
    rules: Rules,
) -> Verdict:
    reasons: list[Reason] = []
    moments: list[datetime] = list(faces.moments)

    if asset.restricted:
        reasons.append(Reason("restricted"))
    if asset.embargo_until is not None:
        moments.append(asset.embargo_until)
        if at < asset.embargo_until:
            reasons.append(Reason("embargo", at=asset.embargo_until))
    if asset.licence_channels is not None and channel not in asset.licence_channels:
        reasons.append(Reason("licence_channel"))
    if asset.licence_until is not None:
        moments.append(asset.licence_until)
        if at >= asset.licence_until:
            reasons.append(Reason("licence_expired", at=asset.licence_until))
    if asset.licence_unknown and channel in rules.licence_channels:
        reasons.append(Reason("licence_unknown"))
    if channel in rules.alt_text_channels and not asset.alt_text.strip():
        reasons.append(Reason("alt_text_missing"))
    if not asset.faces_checked:
        reasons.append(Reason("faces_not_checked"))
    if faces.unidentified:
        reasons.append(Reason("faces_unidentified", count=faces.unidentified))
    if faces.suggested:
        reasons.append(Reason("faces_suggested", count=faces.suggested))
    if asset.undetected_people:
        reasons.append(Reason("people_not_detected"))
    for person_id in faces.confirmed_people:
        reasons.append(_person_reason(people.get(person_id), person_id, channel, at))
    if not faces.counted and asset.faces_checked and not asset.undetected_people:
        reasons.append(Reason("no_people"))

    codes = {r.code for r in reasons}
    if codes & BLOCKING:
        status = VerdictStatus.blocked
    elif codes & REVIEW:
        status = VerdictStatus.review
    else:
        status = VerdictStatus.cleared
    upcoming = [m for m in moments if m > at]
    return Verdict(
        channel=channel,
        status=status,
        reasons=tuple(sorted(reasons, key=_reason_order)) if len(reasons) > 1 else tuple(reasons),
        next_change_at=min(upcoming) if upcoming else None,
    )


def faces_not_cleared(
    asset: AssetTerms, people: Mapping[str, PersonTerms], channel: str, at: datetime
) -> tuple[str, ...]:
    """The ids of the counted faces that keep `asset` from `cleared` for `channel` at
    `at`: every face not dismissed, except those of a confirmed person whose consent is
    valid. A redacted version blurs exactly these."""
    return tuple(
        f.id
        for f in asset.faces
        if f.state != FaceState.dismissed
        and not (
            f.state == FaceState.confirmed
            and f.person_id
            and _person_reason(people.get(f.person_id), f.person_id, channel, at).code
            == "consent_valid"
        )
    )


def judge_redacted(
    asset: AssetTerms,
    people: Mapping[str, PersonTerms],
    channel: str,
    at: datetime,
    rules: Rules | None = None,
) -> tuple[Verdict, tuple[str, ...]]:
    """The verdict of `asset` once the faces not cleared are blurred, and those faces.

    A blurred face counts as one nobody can recognise (dismissed); what blurring cannot
    fix (embargo, licence, alt text, restricted evidence, people the detector missed,
    faces not looked for yet) still keeps the verdict from `cleared`."""
    blurred = faces_not_cleared(asset, people, channel, at)
    hidden = frozenset(blurred)
    unrecognisable = replace(
        asset,
        faces=tuple(
            replace(f, state=FaceState.dismissed) if f.id in hidden else f for f in asset.faces
        ),
    )
    return judge(unrecognisable, people, channel, at, rules), blurred


@lru_cache(maxsize=65536)
def _person_reason(
    person: PersonTerms | None, person_id: str, channel: str, at: datetime
) -> Reason:
    if person is None:  # erased or merged away while the face still pointed at them
        return Reason("consent_missing", person_id=person_id)
    in_force = [c for c in person.consents if not c.superseded]
    failures: list[Reason] = []
    valid: list[ConsentTerms] = []
    for consent in in_force:
        failure = _consent_failure(consent, person.is_minor, channel, at)
        if failure is None:
            valid.append(consent)
        else:
            failures.append(failure)
    if valid:
        # The longest-running valid consent says until when the person is cleared.
        best = max(valid, key=lambda c: (c.valid_until is None, c.valid_until or at, c.id))
        return Reason("consent_valid", person_id=person_id, at=best.valid_until)
    if not failures:
        return Reason("consent_missing", person_id=person_id)
    return min(failures, key=lambda r: (_PERSON_FAILURES.index(r.code), _sortable(r.at)))


def _consent_failure(
    consent: ConsentTerms, is_minor: bool, channel: str, at: datetime
) -> Reason | None:
    pid = consent.person_id
    if channel not in consent.channels:
        return Reason("consent_channel", person_id=pid)
    if consent.withdrawn_at is not None and consent.withdrawn_at <= at:
        return Reason("consent_withdrawn", person_id=pid, at=consent.withdrawn_at)
    if consent.valid_until is not None and consent.valid_until <= at:
        return Reason("consent_expired", person_id=pid, at=consent.valid_until)
    if consent.granted_at > at:
        return Reason("consent_not_started", person_id=pid, at=consent.granted_at)
    if is_minor and not consent.has_guardian:
        return Reason("guardian_missing", person_id=pid)
    return None


def _consent_moments(consents: Iterable[ConsentTerms]) -> list[datetime]:
    moments: list[datetime] = []
    for c in consents:
        if not c.superseded:
            moments.extend(m for m in (c.granted_at, c.valid_until, c.withdrawn_at) if m)
    return moments


_RANK = {code: i for i, code in enumerate((*sorted(BLOCKING), *sorted(REVIEW), *sorted(CLEARING)))}


def _reason_order(reason: Reason) -> tuple[int, str, str]:
    return (_RANK.get(reason.code, len(_RANK)), reason.person_id or "", _sortable(reason.at))


def _sortable(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def worst(statuses: Sequence[VerdictStatus]) -> VerdictStatus:
    """The most restrictive of several verdicts."""
    if VerdictStatus.blocked in statuses:
        return VerdictStatus.blocked
    if VerdictStatus.review in statuses:
        return VerdictStatus.review
    return VerdictStatus.cleared
