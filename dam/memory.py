"""The job memory budget: a ledger that lets jobs run only while their estimates fit.

Image and video stages declare how much memory they will need, estimated from the
file's header before a pixel is decoded. A job waits until its share of the budget is
free, so two decompression bombs never decode side by side; a job that needs more than
the whole budget can never run and fails with a message instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dam.blobs import human_size

_CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)
_FALLBACK_BYTES = 4 * 1024**3


def machine_memory_bytes() -> int:
    """Physical memory, or the container's limit when that is lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = _FALLBACK_BYTES
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return total


class TooBigForBudget(Exception):
    """The job needs more than the whole budget; waiting would never help."""

    def __init__(self, need: int, budget: int) -> None:
        super().__init__(
            f"Processing this file needs about {human_size(need)} of memory, more than the "
            f"{human_size(budget)} this server gives one job (DAM_JOB_MEMORY_MB). The original "
            "is kept; reduce its size and upload it again, or raise the limit."
        )
        self.need = need
        self.budget = budget


class MemoryLedger:
    """Reserves estimated bytes against a budget; `reserve` blocks until they fit."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.in_use = 0
        self._changed = threading.Condition()

    @contextmanager
    def reserve(
        self, need: int, *, waiting: Callable[[], None] = lambda: None, poll_s: float = 5.0
    ) -> Iterator[None]:
        """Hold `need` bytes for the block; `waiting` is called every `poll_s` while queued
        (a heartbeat, so a waiting job is not taken for a dead one)."""
        need = max(0, need)
        if need > self.budget:
            raise TooBigForBudget(need, self.budget)
        next_beat = time.monotonic() + poll_s
        while True:
            with self._changed:
                if self.in_use + need <= self.budget:
                    self.in_use += need
                    break
                self._changed.wait(poll_s)
            if time.monotonic() >= next_beat:  # outside the lock: it writes to the database
                waiting()
                next_beat = time.monotonic() + poll_s
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= need
                self._changed.notify_all()
