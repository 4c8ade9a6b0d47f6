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

from pydantic import AfterValidator, BeforeValidator, StrictBool

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?"
)
FIRST_YEAR, LAST_YEAR = 1900, 9998
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


def _in_range(value: date) -> date:
    # Far ends overflow when a local day becomes UTC (0001-01-01 in Brussels starts in
    # year 0); no consent, embargo or licence lies there.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"give a date between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


Moment = Annotated[datetime, BeforeValidator(_moment), AfterValidator(_in_range)]
DayOrMoment = Annotated[date | datetime, BeforeValidator(_day_or_moment), AfterValidator(_in_range)]
Flag = StrictBool

__all__ = ["DayOrMoment", "Flag", "Moment"]
