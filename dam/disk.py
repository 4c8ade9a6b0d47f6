"""A full disk is a state, not a crash: the free-space guard and telling ENOSPC apart.

Uploads ask `ensure_free` before they write a byte; writes that still hit a full disk
(another process filled it meanwhile) are recognised by `is_disk_full`, whatever layer
raised them (the file system, SQLite, PostgreSQL), and become `StorageFull` (507).
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dam.errors import N_, StorageFull
from dam.sizes import format_size

# ENOSPC: no space; EDQUOT: the user's quota (NFS home directories, XFS project quotas).
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# SQLite: SQLITE_FULL ("database or disk is full"); PostgreSQL: SQLSTATE 53100 disk_full
# ("could not extend file ... No space left on device").
_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded")

STORAGE_FULL_MESSAGE = N_(
    "The server's storage is full, so the file was not stored. Try again later, or ask an "
    "administrator to free space."
)


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on the file system holding `path`."""
    return shutil.disk_usage(path).free


def shortfall(path: Path, *, min_free: int, incoming: int = 0) -> str | None:
    """Why writing `incoming` bytes below `path` would go under `min_free`; None if it fits."""
    free = free_bytes(path)
    if free - incoming >= min_free:
        return None
    return f"{format_size(free)} free, {format_size(min_free)} must stay free" + (
        f" and {format_size(incoming)} would be written" if incoming else ""
    )


def ensure_free(path: Path, *, min_free: int, incoming: int = 0) -> None:
    """Refuse (StorageFull) before writing when the disk would go under its minimum."""
    if shortfall(path, min_free=min_free, incoming=incoming) is not None:
        raise StorageFull(STORAGE_FULL_MESSAGE)


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc`, or an exception it was raised from, says the disk is full."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StorageFull):
            return True
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if getattr(exc, "sqlstate", None) == "53100":  # psycopg's disk_full
            return True
        if any(word in str(exc).lower() for word in _FULL_WORDS):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


@contextmanager
def full_disk_refused() -> Iterator[None]:
    """Turn a write that ran out of space into StorageFull (the caller removes its file)."""
    try:
        yield
    except StorageFull:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise StorageFull(STORAGE_FULL_MESSAGE) from exc
        raise
