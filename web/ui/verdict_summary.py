"""The asset page's one verdict summary: channels with the same status, the same reasons
and the same change ahead are one line ("Website, sociale media, druk: 1 gezicht nog
niet herkend") instead of the same reason six times. Pure: it takes the verdict as
web.api.verdict_schemas.verdict_public gives it and gdpr.judgement.verdict_outlook's changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gdpr.judgement.verdict_outlook import Change

ORDER = {"blocked": 0, "review": 1, "cleared": 2}


@dataclass(frozen=True)
class Group:
    status: str
    channels: tuple[str, ...]
    reasons: tuple[str, ...]  # the messages, in the verdict's order
    change: Change | None  # when (and to what) these channels change by themselves

    def label(self, channel_label: Callable[[str], str]) -> str:
        """The channels as a list for people: "Website, sociale media, druk"."""
        text = ", ".join(channel_label(c) for c in self.channels)
        return text[:1].upper() + text[1:]


def group(verdict: Mapping[str, Any], changes: Mapping[str, Change]) -> list[Group]:
    """One group per distinct (status, reasons, change), worst first, channels in the
    configured order within each."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for channel, v in verdict.items():
        reasons = tuple(str(r["message"]) for r in v["reasons"])
        key = (str(v["status"]), reasons, changes.get(channel))
        groups.setdefault(key, []).append(channel)
    found = [
        Group(status, tuple(channels), reasons, change)
        for (status, reasons, change), channels in groups.items()
    ]
    return sorted(found, key=lambda g: ORDER.get(g.status, 3))  # stable: channel order kept
