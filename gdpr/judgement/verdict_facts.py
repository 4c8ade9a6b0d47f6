"""What judging reads of an asset, in a canonical form: equal facts give equal verdicts,
so assets with equal facts share one VerdictSet row, named by the facts' digest.

Faces count by state and person (reasons count faces, never name them), alt text by its
presence; the asset's id and its faces' ids play no part in the verdict. Everything
here is pure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from dam.models import FaceState
from gdpr.judgement.verdict import AssetTerms, FaceTerms

_STATES = {state.value: state for state in FaceState}


@dataclass(frozen=True)
class Facts:
    faces: tuple[tuple[str, str], ...]  # (state, person id or ""), sorted
    faces_checked: bool
    undetected_people: bool
    alt_text: bool
    embargo_until: datetime | None
    licence_channels: tuple[str, ...] | None  # sorted; None: the licence does not limit
    licence_until: datetime | None
    restricted: bool
    licence_unknown: bool = False

    @classmethod
    def of(
        cls,
        faces: Iterable[FaceTerms],
        *,
        faces_checked: bool,
        undetected_people: bool,
        alt_text: str,
        embargo_until: datetime | None,
        licence_channels: Iterable[str] | None,
        licence_until: datetime | None,
        restricted: bool,
        licence_unknown: bool = False,
    ) -> Facts:
        return cls(
            faces=tuple(sorted((f.state.value, f.person_id or "") for f in faces)),
            faces_checked=faces_checked,
            undetected_people=undetected_people,
            alt_text=bool(alt_text.strip()),
            embargo_until=embargo_until,
            licence_channels=None if licence_channels is None else tuple(sorted(licence_channels)),
            licence_until=licence_until,
            restricted=restricted,
            licence_unknown=licence_unknown,
        )

    @cached_property
    def id(self) -> str:
        """The digest naming these facts' VerdictSet row (32 hex characters)."""
        text = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def person_ids(self) -> set[str]:
        return {person for _, person in self.faces if person}

    def terms(self) -> AssetTerms:
        """These facts as judge() takes them (faces numbered, not named)."""
        return AssetTerms(
            id="",
            faces=tuple(
                FaceTerms(str(n), _STATES[state], person or None)
                for n, (state, person) in enumerate(self.faces)
            ),
            faces_checked=self.faces_checked,
            undetected_people=self.undetected_people,
            alt_text="present" if self.alt_text else "",
            embargo_until=self.embargo_until,
            licence_channels=(
                None if self.licence_channels is None else frozenset(self.licence_channels)
            ),
            licence_until=self.licence_until,
            restricted=self.restricted,
            licence_unknown=self.licence_unknown,
        )

    def as_json(self) -> dict[str, Any]:
        # `licence_unknown` only when set: facts from before licences had a status keep
        # their digest (and their verdict set).
        extra: dict[str, Any] = {"licence_unknown": True} if self.licence_unknown else {}
        return {
            **extra,
            "faces": [list(face) for face in self.faces],
            "faces_checked": self.faces_checked,
            "undetected_people": self.undetected_people,
            "alt_text": self.alt_text,
            "embargo_until": _moment(self.embargo_until),
            "licence_channels": (
                None if self.licence_channels is None else list(self.licence_channels)
            ),
            "licence_until": _moment(self.licence_until),
            "restricted": self.restricted,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Facts:
        channels = data.get("licence_channels")
        return cls(
            faces=tuple((str(state), str(person)) for state, person in data.get("faces", ())),
            faces_checked=bool(data.get("faces_checked")),
            undetected_people=bool(data.get("undetected_people")),
            alt_text=bool(data.get("alt_text")),
            embargo_until=_parse(data.get("embargo_until")),
            licence_channels=None if channels is None else tuple(str(c) for c in channels),
            licence_until=_parse(data.get("licence_until")),
            restricted=bool(data.get("restricted")),
            licence_unknown=bool(data.get("licence_unknown")),
        )


def _moment(value: datetime | None) -> str | None:
    # In UTC: the same moment in another zone is the same fact (and the same digest).
    return value.astimezone(UTC).isoformat() if value is not None else None


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
