"""Temp files whose writer died: named after their owner, removed when it is gone.

Every file or folder a process writes in `data/tmp` (an upload on its way in, a video's
scratch folder, an export being zipped) carries the writer's identity in its name
(`in-@host~boot~pid~start@x1y2`). A process starting on the same host removes the ones
whose writer has ended; `dam check` lists what is left. Resumable uploads in `uploads/`
belong to a database row instead: a file without one is a leftover.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from dam import owner
from dam.models import Upload
from dam.settings import Settings

log = logging.getLogger(__name__)

# Entries without an owner in their name (written before names carried one): left alone
# while anything in them changed within this time.
UNTAGGED_IDLE_S = 3600.0
# A resumable upload's file is created just before its row is committed.
UPLOAD_GRACE_S = 300.0


@dataclass(frozen=True)
class Leftover:
    path: Path
    size: int
    why: str

    def describe(self, root: Path) -> str:
        from dam.sizes import format_size

        return f"{self.path.relative_to(root)} ({format_size(self.size)}, {self.why})"


Sessions = Callable[[], Session]  # the runtime's (Runtime.session)


def find(
    settings: Settings, sessions: Sessions | None = None, *, moment: float | None = None
) -> list[Leftover]:
    """Temp entries without a living owner (and, given the runtime's `sessions`, upload
    files without an upload)."""
    at = time.time() if moment is None else moment
    found = _scan_tmp(settings.data_dir / "tmp", at)
    if sessions is not None:
        found += _orphan_uploads(settings.uploads_dir, sessions, at)
    return found


def remove(leftovers: list[Leftover]) -> int:
    """Delete them; returns the bytes freed."""
    freed = 0
    for item in leftovers:
        with contextlib.suppress(OSError):
            if item.path.is_dir() and not item.path.is_symlink():
                shutil.rmtree(item.path)
            else:
                item.path.unlink()
            freed += item.size
    return freed


def clean(settings: Settings, sessions: Sessions) -> list[Leftover]:
    """Remove what died with its writer; returns what was removed (logged without names)."""
    items = find(settings, sessions)
    if items:
        freed = remove(items)
        log.info("removed %d leftover temp file(s), %d bytes", len(items), freed)
    return items


def _scan_tmp(tmp: Path, at: float) -> list[Leftover]:
    found = []
    for entry in _entries(tmp):
        writer = owner.owner_of_name(entry.name)
        try:
            if writer is not None:
                if not owner.is_gone(writer):
                    continue
                why = "its process ended"
            else:
                if at - _last_change(entry) < UNTAGGED_IDLE_S:
                    continue
                why = "unchanged for over an hour"
            found.append(Leftover(entry, _size(entry), why))
        except OSError:
            continue  # removed meanwhile
    return found


def _orphan_uploads(uploads: Path, sessions: Sessions, at: float) -> list[Leftover]:
    files = [p for p in _entries(uploads) if p.is_file() and p.name.isalnum()]
    if not files:
        return []
    with sessions() as session:
        known = set(session.exec(select(Upload.id)))
    found = []
    for path in files:
        with contextlib.suppress(OSError):
            if path.name not in known and at - path.stat().st_mtime >= UPLOAD_GRACE_S:
                found.append(Leftover(path, path.stat().st_size, "no upload refers to it"))
    return found


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _last_change(path: Path) -> float:
    newest = path.lstat().st_mtime
    if path.is_dir():
        for child in path.rglob("*"):
            with contextlib.suppress(OSError):
                newest = max(newest, child.lstat().st_mtime)
    return newest


def _size(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        total = 0
        for child in path.rglob("*"):
            with contextlib.suppress(OSError):
                if child.is_file():
                    total += child.lstat().st_size
        return total
    return path.lstat().st_size
