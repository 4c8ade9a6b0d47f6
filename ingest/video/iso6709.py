"""ISO 6709 location strings, as phones and cameras write them into QuickTime/MP4 tags.

Examples: "+50.8466+004.3528+012.000/" (Apple, Android), "+5050.796+00420.168/" (degrees
and minutes), "+505047.8+0042010.1/" (degrees, minutes and seconds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = r"([+-])(\d+)(\.\d+)?"
_PATTERN = re.compile(rf"^{_PART}{_PART}(?:{_PART})?(?:CRS[^/]*)?/?$")


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    alt_m: float | None = None


def parse_iso6709(text: str | None) -> Location | None:
    """The location in `text`, or None when it is missing, malformed or out of range."""
    if not text:
        return None
    match = _PATTERN.match(text.strip())
    if match is None:
        return None
    groups = match.groups()
    lat = _angle(*groups[0:3], degree_digits=2)
    lon = _angle(*groups[3:6], degree_digits=3)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    if lat == 0 and lon == 0:
        return None  # what devices write when they had no fix
    alt = None
    if groups[6] is not None:
        alt = float(groups[6] + groups[7] + (groups[8] or ""))
    return Location(round(lat, 6), round(lon, 6), alt)


def _angle(sign: str, whole: str, fraction: str | None, *, degree_digits: int) -> float | None:
    """±DD[.D], ±DDMM[.M] or ±DDMMSS[.S] (three degree digits for longitude)."""
    extra = len(whole) - degree_digits
    if extra not in (0, 2, 4):
        return None
    degrees = int(whole[:degree_digits])
    value = float(whole[degree_digits:] + (fraction or "")) if extra else 0.0
    if extra == 0:
        degrees_f = degrees + float(fraction or 0)
    elif extra == 2:
        if value >= 60:
            return None
        degrees_f = degrees + value / 60
    else:
        minutes, seconds = (
            int(whole[degree_digits : degree_digits + 2]),
            float(whole[degree_digits + 2 :] + (fraction or "")),
        )
        if minutes >= 60 or seconds >= 60:
            return None
        degrees_f = degrees + minutes / 60 + seconds / 3600
    return -degrees_f if sign == "-" else degrees_f
