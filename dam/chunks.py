"""Id lists cut into pieces small enough for one `IN (...)` each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Ids per IN (...): inside every database's bound-parameter limit (SQLite's was 999).
BATCH = 500


def chunks(items: Sequence[T], size: int = BATCH) -> Iterator[list[T]]:
    """`items` in consecutive lists of at most `size`, in order; none for no items."""
    if size < 1:
        raise ValueError("size must be at least 1")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
