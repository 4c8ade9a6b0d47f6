"""Typed events and the subscriber registry through which packages meet."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)


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


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]

_subscribers: defaultdict[type[Event], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Call `handler` for every published event of `event_type` (idempotent)."""
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def unsubscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    if handler in _subscribers[event_type]:
        _subscribers[event_type].remove(handler)


def publish(event: Event) -> None:
    """Deliver an event to its subscribers; one failing subscriber does not stop the others."""
    for handler in list(_subscribers[type(event)]):
        try:
            handler(event)
        except Exception:
            log.exception("subscriber %s failed on %s", handler, type(event).__name__)


def publish_after_commit(session: Any, event: Event) -> None:
    """Publish `event` once `session` commits (dropped on rollback), before its jobs run."""
    session.info.setdefault("events_to_publish", []).append(event)


def publish_pending(session: Any) -> None:
    for event in session.info.pop("events_to_publish", []):
        publish(event)


def drop_pending(session: Any) -> None:
    session.info.pop("events_to_publish", None)


def clear_subscribers() -> None:
    _subscribers.clear()
