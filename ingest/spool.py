"""Hand a request body to a worker thread in batches, so receiving and writing overlap.

Writing to the page cache and hashing are the main costs of an upload. Done on the event
loop, they stall it (and every other request) and leave the second core idle; handed to a
thread per 64 kB network chunk, the hand-over would cost more than the work. A Spool
gathers the chunks the server received (no copying) and lets a thread write one batch
while the next one gathers, so memory stays at two batches per upload whatever the size.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO, Protocol

from starlette.concurrency import run_in_threadpool

BATCH_SIZE = 4 * 1024 * 1024

Chunk = bytes | memoryview
Sink = Callable[[Sequence[Chunk]], None]


class Hasher(Protocol):
    def update(self, data: Any, /) -> None: ...


class Spool:
    """`await write(chunk)` for each chunk, then `await flush()` at the end."""

    def __init__(self, sink: Sink, batch_size: int = BATCH_SIZE) -> None:
        self._sink = sink
        self._batch_size = batch_size
        self._batch: list[Chunk] = []
        self._batched = 0
        self._pending: asyncio.Task[None] | None = None
        self.size = 0  # bytes accepted so far, written or still gathering

    async def write(self, chunk: Chunk) -> None:
        """Take `chunk` (which must not change afterwards) and write it in the background."""
        if not chunk:
            return
        self._batch.append(chunk)
        self._batched += len(chunk)
        self.size += len(chunk)
        if self._batched >= self._batch_size:
            await self._hand_off()

    async def flush(self) -> None:
        """Write what is gathered and wait until every write is done."""
        if self._batch:
            await self._hand_off()
        await self.settle()

    async def settle(self) -> None:
        """Wait for the write in flight (if any), so nothing touches the file afterwards."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    async def _hand_off(self) -> None:
        # One batch at a time: the order of writes is the order of the body.
        await self.settle()
        batch, self._batch, self._batched = self._batch, [], 0
        self._pending = asyncio.ensure_future(run_in_threadpool(self._sink, batch))


class FileSink:
    """A Sink that appends to an open file and feeds the same bytes to hashers.

    After each batch it asks the kernel to start writing that batch to disk
    (POSIX_FADV_DONTNEED starts write-back without waiting for it). Otherwise gigabytes
    of dirty pages pile up and the fsync at the end writes them all while the client
    waits; on the 2-core test VM, 2 GB written and fsynced went from 0.3-0.8 GB/s to
    about 3 GB/s, with a quarter of the CPU time.
    """

    def __init__(self, fh: BinaryIO, *hashers: Hasher | None) -> None:
        self._fh = fh
        self._hashers = [h for h in hashers if h is not None]
        self._start = fh.tell()

    def __call__(self, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            self._fh.write(chunk)
            for hasher in self._hashers:
                hasher.update(chunk)
        self._fh.flush()
        end = self._fh.tell()
        if hasattr(os, "posix_fadvise"):  # not on macOS; there it is only slower
            os.posix_fadvise(
                self._fh.fileno(), self._start, end - self._start, os.POSIX_FADV_DONTNEED
            )
        self._start = end
