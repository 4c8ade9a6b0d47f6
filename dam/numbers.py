"""Numbers for people inside messages, one way everywhere: "6.000 × 4.000" for a Dutch
reader, "6,000 × 4,000" for an English one.

Like a file size (dam/sizes.py), a number inside a message (an error, a kept failure:
dam/errors.py, dam/messages.py) is a `Number`, not text: it is written when the message is
shown, in its reader's language (web/catalogs.py), and kept as a number in the database.
Logs and the command line show it in English (`str(Number(n))`). Counts that choose a
plural form (`num`) and identifiers stay plain ints.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_decimal

ENGLISH = "en_GB"  # the locale of logs, the command line and Message.english
# Grouped, one decimal at most: counts are whole ("1.234"), measures keep one ("1,5 MB",
# "f/2,8"); a Babel pattern, for a number with a unit too (babel.units.format_unit).
PATTERN = "#,##0.#"


def format_number(value: float, locale: str = ENGLISH) -> str:
    """A number in a Babel locale ("nl_BE", "en_GB"), one decimal at most: "6.000", "1,5"."""
    return format_decimal(value, format=PATTERN, locale=locale)


@dataclass(frozen=True)
class Number:
    """A number as a message's value: written in the reader's language where it is shown."""

    value: int | float

    def __str__(self) -> str:
        return format_number(self.value)

    def to_json(self) -> dict[str, int | float]:
        return {"number": self.value}
