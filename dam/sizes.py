"""File sizes for people, one way everywhere: "1,5 MB" for a Dutch reader, "1.5 MB" for
an English one.

A size inside a message (an error, a kept failure: dam/errors.py, dam/messages.py) is a
`Size`, not text: it is formatted when the message is shown, in its reader's language
(web/catalogs.py), and kept as a number in the database. Logs and the command line show
it in English (`str(Size(n))`).

Units are powers of 1024, written kB, MB, GB, TB as people (and most file managers) write
them: the limits an administrator sets are in those units (DAM_MIN_FREE_MB, an upload
limit of 20 * 1024**3 bytes), and "20 GB" reads as what was set, not as "21,5 GB".
"""

from __future__ import annotations

from dataclasses import dataclass

from dam.numbers import ENGLISH, format_number

_UNITS = ("kB", "MB", "GB", "TB")


def format_size(size: int, locale: str = ENGLISH) -> str:
    """A byte count for people in a Babel locale ("nl_BE", "en_GB"): "1,5 MB", "512 B"."""
    if size < 1024:
        return f"{format_number(size, locale)} B"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        shown = round(value, 1)  # one decimal at most ("1,5 MB", "20 GB")
        if shown < 1024 or unit == _UNITS[-1]:
            return f"{format_number(shown, locale)} {unit}"
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Size:
    """A size as a message's value: formatted in the reader's language where it is shown."""

    bytes: int

    def __str__(self) -> str:
        return format_size(self.bytes)

    def to_json(self) -> dict[str, int]:
        return {"bytes": self.bytes}
