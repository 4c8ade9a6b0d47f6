"""The job memory budget: a ledger that lets jobs run only while their estimates fit.

Image and video stages declare how much memory they will need, estimated from the
file's header before a pixel is decoded. A job waits until its share of the budget is
free, so two decompression bombs never decode side by side. A job that needs more than
the budget runs alone (it holds all of it), up to the limit; above the limit it can never
run and fails with a message instead.

The default budget is 1.25 GiB (or half the machine's memory, if that is less), the
limit half the machine's memory. A budget of half the machine never held a job back with
two worker threads on a 24 GB machine (each job may take 6 GB): two 196-megapixel photos
took 1.2 GB side by side. Now their decodes (0.8-0.95 GB declared each) run one after
the other, while a 4K transcode (0.8 GB) and a 24-megapixel photo's faces (0.35 GB) still
run together; anything that needs more than the budget runs alone. DAM_JOB_MEMORY_MB
sets both budget and limit.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dam.errors import N_, Message
from dam.sizes import Size

_CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)
_FALLBACK_BYTES = 4 * 1024**3
DEFAULT_BUDGET_BYTES = 1280 * 1024**2


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


def default_budget_bytes() -> int:
    """What the jobs of one process may use together when DAM_JOB_MEMORY_MB is not set."""
    return min(DEFAULT_BUDGET_BYTES, default_limit_bytes())


def default_limit_bytes() -> int:
    """The most one job may use when DAM_JOB_MEMORY_MB is not set: half the machine."""
    return machine_memory_bytes() // 2


class TooBigForBudget(Exception):
    """The job needs more than the whole budget; waiting would never help."""

    def __init__(self, need: int, budget: int) -> None:
        # A message id with its values: the failed asset shows it in its reader's language.
        self.message = Message(
            N_(
                "Processing this file needs about %(need)s of memory, more than the "
                "%(budget)s this server gives one job (DAM_JOB_MEMORY_MB). The original is "
                "kept; reduce its size and upload it again, or raise the limit."
            ),
            {"need": Size(need), "budget": Size(budget)},
        )
        super().__init__(self.message.english)
        self.need = need
        self.budget = budget


class MemoryLedger:
    """Reserves estimated bytes against a budget; `reserve` blocks until they fit.

    A need above the budget (up to `limit`) waits until nothing else runs and then holds
    the whole budget: the job runs alone."""

    def __init__(self, budget: int, *, limit: int | None = None) -> None:
        self.budget = budget
        self.limit = max(budget, limit if limit is not None else budget)
        self.in_use = 0
        self._changed = threading.Condition()

    @contextmanager
    def reserve(
        self,
        need: int,
        *,
        waiting: Callable[[], None] = lambda: None,
        poll_s: float = 5.0,
        release: bool = True,
    ) -> Iterator[None]:
        """Hold `need` bytes for the block; `waiting` is called every `poll_s` while queued
        (a heartbeat, so a waiting job is not taken for a dead one). `release`: give the
        freed memory back to the system after the block (False: the caller does, when it
        has no more work for it)."""
        need = max(0, need)
        if need > self.limit:
            raise TooBigForBudget(need, self.limit)
        held = min(need, self.budget)
        next_beat = time.monotonic() + poll_s
        while True:
            with self._changed:
                if self.in_use + held <= self.budget:
                    self.in_use += held
                    break
                self._changed.wait(poll_s)
            if time.monotonic() >= next_beat:  # outside the lock: it writes to the database
                waiting()
                next_beat = time.monotonic() + poll_s
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= held
                self._changed.notify_all()
            if held and release:
                release_free_memory()


def release_free_memory() -> None:
    """Give the memory a job freed back to the system. glibc keeps freed blocks for the
    thread's next allocations (each worker thread has its own arena), so a decode's
    hundreds of megabytes stayed in the process after the job; malloc_trim returns them.
    A no-op where the C library is not glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_trim_function: list[Callable[[int], int] | None] = []


def _malloc_trim() -> Callable[[int], int] | None:
    if not _trim_function:
        function = None
        try:
            library = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            function = getattr(library, "malloc_trim", None)
        except OSError:
            pass
        if function is not None:
            function.argtypes = [ctypes.c_size_t]
            function.restype = ctypes.c_int
        _trim_function.append(function)
    return _trim_function[0]


# glibc's mallopt() parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to this size come from malloc's heaps instead of a mapping of their own, and
# free memory at the top of a heap is kept up to this much: a 24-megapixel photo's buffers
# (a 27 MB half-size decode, OpenCV's ~55 MB of P-Net activations) then serve the next
# photo's job as they are. With glibc's defaults (mappings above 128 kB-32 MB, trimmed at
# twice that) the bench's photos faulted ~7,500 more fresh pages in each, ~0.03 CPU s of
# kernel time per photo with 2 workers (bench/ingest_images.py, docs/models.md). The memory
# still goes back when the queue is empty (JobRunner: release_free_memory).
_REUSE_BLOCKS_UP_TO = 64 << 20
_KEEP_FREE_UP_TO = 256 << 20


def reuse_freed_memory() -> bool:
    """In a process that runs jobs: let malloc keep what one job frees for the next (see
    above). False where the C library is not glibc (nothing changed)."""
    try:
        library = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = getattr(library, "mallopt", None)
    except OSError:
        return False
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _REUSE_BLOCKS_UP_TO)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _KEEP_FREE_UP_TO)
    )
