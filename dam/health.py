"""Readiness: does every part the process depends on answer?"""

from __future__ import annotations

import tempfile

from sqlalchemy import text

from dam.disk import shortfall
from dam.runtime import Runtime
from dam.wiring import ReadinessCheck


def _database(rt: Runtime) -> None:
    with rt.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


class StorageLow(Exception):
    """Less free space than DAM_MIN_FREE_MB: uploads are refused until space is freed."""


def _storage(rt: Runtime) -> None:
    # Free space first: on a full disk even the probe file below may still succeed
    # (an empty file needs no data block), while uploads are already refused.
    low = shortfall(rt.blobs.tmp_dir, min_free=rt.settings.min_free_bytes)
    if low is not None:
        raise StorageLow(f"{low} (DAM_MIN_FREE_MB)")
    with tempfile.NamedTemporaryFile(dir=rt.blobs.tmp_dir, prefix="ready-"):
        pass


def _queue(rt: Runtime) -> None:
    rt.queue.ping()


# The core's own parts; packages add theirs to the wiring (search its backend).
CORE_CHECKS: dict[str, ReadinessCheck] = {
    "database": _database,
    "storage": _storage,
    "queue": _queue,
}


def readiness(rt: Runtime) -> dict[str, str]:
    """Each check's name -> 'ok' or what failed."""
    results = {}
    for name, check in {**CORE_CHECKS, **rt.wiring.readiness}.items():
        try:
            check(rt)
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return results
