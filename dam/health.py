"""Readiness: does every part the process depends on answer?"""

from __future__ import annotations

import tempfile

from sqlalchemy import text

from dam.runtime import Runtime
from dam.wiring import ReadinessCheck


def _database(rt: Runtime) -> None:
    with rt.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _storage(rt: Runtime) -> None:
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
