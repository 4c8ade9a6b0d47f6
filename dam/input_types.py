"""Input types that accept what the OpenAPI schema promises and nothing else.

pydantic's lax mode reads 0 as false and as 1970-01-01T00:00:00Z, and "2026-03-01" as a
moment. The schema says boolean and date-time; a client that sends something else made a
mistake it should hear about (422), not have guessed for it. Python callers may still pass
date and datetime objects.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?"
)
_MOMENT_HINT = "give a date and time like 2026-03-01T09:30:00+01:00"


def _moment(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _MOMENT.fullmatch(value)):
        return value
    raise ValueError(_MOMENT_HINT)


def _day_or_moment(value: Any) -> Any:
    if isinstance(value, date):  # datetime is a date too
        return value
    if isinstance(value, str) and (_DAY.fullmatch(value) or _MOMENT.fullmatch(value)):
        return value
    raise ValueError(f"give a date like 2026-03-01, or {_MOMENT_HINT.removeprefix('give ')}")


Moment = Annotated[datetime, BeforeValidator(_moment)]
DayOrMoment = Annotated[date | datetime, BeforeValidator(_day_or_moment)]
Flag = StrictBool

__all__ = ["DayOrMoment", "Flag", "Moment"]
