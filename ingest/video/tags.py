"""Capture facts from container tags: creation time, camera, location, title, rights.

Phones and cameras write these as QuickTime keys (com.apple.quicktime.*), classic
QuickTime user data (©mak, ©mod, ©xyz, which ffmpeg names make, model, location),
Android keys (com.android.*) or plain MP4/Matroska tags. Rights: MP4's `cprt` and
QuickTime's `©cpy` (ffmpeg: copyright), `©ART`/`©aut` (artist, author), Matroska's
COPYRIGHT, ARTIST, LICENSE and TERMS_OF_USE (ffmpeg gives tag names as written; they are
compared in lower case).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingest.video.iso6709 import Location, parse_iso6709

_TIME_KEYS = ("com.apple.quicktime.creationdate", "creation_time", "date")
_MAKE_KEYS = ("com.apple.quicktime.make", "make", "com.android.manufacturer", "manufacturer")
_MODEL_KEYS = ("com.apple.quicktime.model", "model", "com.android.model")
_LOCATION_KEYS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")
_TITLE_KEYS = ("com.apple.quicktime.title", "title")
_DESCRIPTION_KEYS = ("com.apple.quicktime.description", "description", "comment")
_CREATOR_KEYS = ("com.apple.quicktime.author", "com.apple.quicktime.artist", "artist", "author")
_COPYRIGHT_KEYS = ("com.apple.quicktime.copyright", "copyright")
_TERMS_KEYS = ("terms_of_use", "license", "licence")  # Matroska's rights tags

# Cameras without a set clock write the epoch of their format (1904, 1970).
_EARLIEST_YEAR = 1980


@dataclass(frozen=True)
class CaptureTime:
    at: datetime  # aware
    offset_min: int | None  # the zone the device recorded, when it said which


@dataclass(frozen=True)
class CaptureTags:
    taken: CaptureTime | None
    camera_make: str | None
    camera_model: str | None
    location: Location | None
    title: str | None
    description: str | None
    creator: str | None
    copyright: str | None
    terms: str | None = None  # the terms of use or licence the file names

    @property
    def camera(self) -> str | None:
        make, model = self.camera_make, self.camera_model
        if make and model and model.lower().startswith(make.lower().split()[0]):
            return model
        return " ".join(p for p in (make, model) if p) or None


def read_tags(*tag_sets: Mapping[str, str]) -> CaptureTags:
    """Capture facts from container tags, then stream tags (first found wins)."""
    merged: dict[str, str] = {}
    for tags in tag_sets:
        for key, value in tags.items():
            merged.setdefault(key.lower(), value)
    return CaptureTags(
        taken=_first_time(merged),
        camera_make=_first(merged, _MAKE_KEYS),
        camera_model=_first(merged, _MODEL_KEYS),
        location=next((loc for k in _LOCATION_KEYS if (loc := parse_iso6709(merged.get(k)))), None),
        title=_first(merged, _TITLE_KEYS),
        description=_first(merged, _DESCRIPTION_KEYS),
        creator=_first(merged, _CREATOR_KEYS),
        copyright=_first(merged, _COPYRIGHT_KEYS),
        terms=_first(merged, _TERMS_KEYS),
    )


def parse_time(text: str | None) -> CaptureTime | None:
    """An ISO 8601 time; 'Z' is UTC with no local zone known, a numeric offset is kept."""
    if not text:
        return None
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.year < _EARLIEST_YEAR:
        return None
    if parsed.tzinfo is None:
        return None  # a wall-clock time without a zone: leave it to a person
    if text.endswith(("Z", "z")):
        # MP4 creation_time: a UTC instant; the zone the camera was in is not recorded.
        return CaptureTime(parsed, None)
    offset = parsed.utcoffset() or timedelta(0)
    return CaptureTime(parsed, int(offset.total_seconds() // 60))


def _first_time(tags: Mapping[str, str]) -> CaptureTime | None:
    for key in _TIME_KEYS:
        found = parse_time(tags.get(key))
        if found is not None:
            return found
    return None


def _first(tags: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = " ".join((tags.get(key) or "").split())
        if value:
            return value[:200]
    return None
