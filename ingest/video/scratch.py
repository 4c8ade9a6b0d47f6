"""Scratch space of the video stages in data/tmp, and sweeping what a crash left there.

Stages remove their scratch directory however they end; only a worker killed outright
(power cut, OOM killer) leaves one behind. The sweeper removes those once nothing in them
has changed for hours: a running transcode writes to its files all the time.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path

from dam.runtime import Runtime

PREFIXES = ("video-", "captioned-")
ABANDONED_AFTER_S = 6 * 3600.0


def last_change(path: Path) -> float:
    """The newest modification time of `path` and everything in it."""
    newest = path.stat().st_mtime
    if path.is_dir():
        for child in path.rglob("*"):
            with contextlib.suppress(OSError):
                newest = max(newest, child.stat().st_mtime)
    return newest


def sweep_scratch(tmp_dir: Path, *, now: float | None = None) -> list[str]:
    """Remove abandoned video scratch entries in `tmp_dir`; returns their names."""
    moment = time.time() if now is None else now
    removed = []
    for entry in tmp_dir.iterdir() if tmp_dir.exists() else ():
        if not entry.name.startswith(PREFIXES):
            continue
        try:
            idle = moment - last_change(entry)
        except OSError:
            continue  # gone meanwhile
        if idle < ABANDONED_AFTER_S:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


def sweep_task(rt: Runtime) -> list[str]:
    """The periodic task (in the runtime's wiring)."""
    return sweep_scratch(rt.settings.data_dir / "tmp")
