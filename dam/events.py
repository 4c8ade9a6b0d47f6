"""Typed events through which packages meet. Who hears them is the runtime's wiring
(`Wiring.subscribe`); `Runtime.publish` delivers them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dam.wiring import runtime_of


@dataclass(frozen=True)
class Event:
    """Base class of every event."""


@dataclass(frozen=True)
class AssetStored(Event):
    """A new original was stored and its asset row committed."""

    asset_id: str


@dataclass(frozen=True)
class AssetProcessed(Event):
    """Every pipeline stage of an asset finished (ready or failed)."""

    asset_id: str
    status: str


@dataclass(frozen=True)
class AssetChanged(Event):
    """Something about the asset changed (a notification: its verdicts and search
    document follow through the change feed, dam/changes.py)."""

    asset_id: str


@dataclass(frozen=True)
class AssetDeleted(Event):
    asset_id: str


@dataclass(frozen=True)
class FacesDetected(Event):
    """The faces stage stored what it found in an asset (ids of new and re-found faces)."""

    asset_id: str
    face_ids: tuple[str, ...]


@dataclass(frozen=True)
class PersonErased(Event):
    """A person was erased (GDPR art. 17; search forgets them through the change feed
    before the erasing request returns). `asset_ids`: every asset they appeared on."""

    person_id: str
    asset_ids: tuple[str, ...] = ()


def publish_after_commit(session: Any, event: Event) -> None:
    """Publish `event` through the session's runtime once `session` commits (dropped on
    rollback), before its jobs run."""
    runtime_of(session)  # a session no runtime opened would drop it: refuse it now
    session.info.setdefault("events_to_publish", []).append(event)


def publish_pending(session: Any) -> None:
    events = session.info.pop("events_to_publish", [])
    if events:
        runtime = runtime_of(session)
        for event in events:
            runtime.publish(event)


def drop_pending(session: Any) -> None:
    session.info.pop("events_to_publish", None)
