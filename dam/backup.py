"""`dam backup DEST`: a consistent copy of a running Beeldbank.

A backup directory holds any number of snapshots that share one content-addressed blob
store, so a second backup copies only files it does not hold yet:

    DEST/blobs/ab/cd/<sha256>          originals and derived files, by content
    DEST/snapshots/<UTC time>/         manifest.json (+ .sha256), the database, the ledger
    DEST/erasure-ledger.jsonl          every erasure any snapshot's server knew of

The database is copied first (SQLite's online backup API, or pg_dump's snapshot), then the
files: originals never change once written, so every original the copied database refers
to is still there (unless an erasure removed it meanwhile; the ledger, copied last,
erases that person again on restore). Not in a backup: the search index (a restore
rebuilds it), the queue, temp files and unfinished uploads, and the face-embedding key
(DAM_FACE_KEY: it has its own procedure, see docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from dam import db_dump, erasure_ledger
from dam.blobs import CHUNK, hash_file
from dam.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
BACKED_UP = ("originals", "derived")  # the data dir's folders a backup holds


class BackupError(Exception):
    """The backup could not be made or read; the message says why."""


@dataclass
class BackupReport:
    snapshot: Path
    files: int = 0
    copied: int = 0  # files new to the backup's blob store
    copied_bytes: int = 0
    total_bytes: int = 0
    ledger_entries: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def blob_path(dest: Path, sha256: str) -> Path:
    return dest / "blobs" / sha256[:2] / sha256[2:4] / sha256


def snapshots(dest: Path) -> list[Path]:
    """The snapshots in a backup directory, oldest first."""
    root = dest / "snapshots"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / MANIFEST).is_file())


def read_manifest(snapshot: Path) -> dict[str, Any]:
    """The snapshot's manifest, checked against its recorded hash."""
    path = snapshot / MANIFEST
    try:
        data = path.read_bytes()
        recorded = (snapshot / (MANIFEST + ".sha256")).read_text().split()[0]
    except (OSError, IndexError):
        raise BackupError(f"{snapshot} is not a Beeldbank backup (no manifest)") from None
    if hashlib.sha256(data).hexdigest() != recorded:
        raise BackupError(f"the manifest of {snapshot.name} does not match its hash")
    manifest: dict[str, Any] = json.loads(data)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def make_backup(
    *, settings: Settings, engine: Engine, dest: Path, key_ids: dict[str, int]
) -> BackupReport:
    """Copy the database, the originals and derived files and the erasure ledger into a
    new snapshot under `dest`. `key_ids`: face-embedding key fingerprint -> rows sealed
    with it (reported; the key itself is never written)."""
    started = time.monotonic()
    dest = dest.expanduser().resolve()
    if dest == settings.data_dir or settings.data_dir in dest.parents:
        raise BackupError("the backup directory must be outside the data dir")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    partial = dest / "snapshots" / f".{stamp}.partial"
    partial.mkdir(parents=True)
    report = BackupReport(snapshot=dest / "snapshots" / stamp)
    try:
        _fill_snapshot(settings, engine, dest, partial, key_ids, report)
    except BaseException:
        # Blobs already copied stay (the next backup uses them); the snapshot does not.
        remove_tree(partial)
        raise
    # The backup directory's own ledger: every erasure any of its snapshots knew of.
    erasure_ledger.write(
        dest / erasure_ledger.LEDGER_NAME,
        erasure_ledger.read(report.snapshot / erasure_ledger.LEDGER_NAME),
    )
    report.seconds = time.monotonic() - started
    return report


def _fill_snapshot(
    settings: Settings,
    engine: Engine,
    dest: Path,
    partial: Path,
    key_ids: dict[str, int],
    report: BackupReport,
) -> None:
    previous = _previous_files(dest)

    database = db_dump.dump(engine, partial)
    revision = _revision(engine)
    with engine.connect() as conn:
        in_database = erasure_ledger.from_database(conn)

    files: dict[str, list[Any]] = {}
    for relative, path in _data_files(settings.data_dir):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # removed since the listing (a deleted asset's derived files)
        sha = _known_hash(relative, stat, previous)
        try:
            sha, copied = _store(dest, path, sha)
        except FileNotFoundError:
            continue
        files[relative] = [sha, stat.st_size, stat.st_mtime_ns]
        report.files += 1
        report.total_bytes += stat.st_size
        if copied:
            report.copied += 1
            report.copied_bytes += stat.st_size

    # Last, so that it holds every erasure up to the end of the copy.
    ledger = erasure_ledger.merge(
        erasure_ledger.read(settings.erasure_ledger_path),
        in_database,
        erasure_ledger.read(dest / erasure_ledger.LEDGER_NAME),
    )
    erasure_ledger.write(partial / erasure_ledger.LEDGER_NAME, ledger)
    report.ledger_entries = len(ledger)
    embeddings = sum(key_ids.values())
    report.notes.append(
        "The face-embedding key (DAM_FACE_KEY) is not in this backup"
        + (
            f": {embeddings} embedding(s) need the key with fingerprint "
            + ", ".join(sorted(key_ids))
            + " to be readable after a restore. Keep it in your secret store."
            if embeddings
            else " (no embeddings are stored)."
        )
    )
    report.notes.append("The search index is not in this backup: dam restore rebuilds it.")
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "revision": revision,
        "database": {
            "file": database.file,
            "dialect": database.dialect,
            "schema": database.schema,
            "sha256": hash_file(partial / database.file),
            "size": (partial / database.file).stat().st_size,
        },
        "files": files,
        "ledger": {
            "file": erasure_ledger.LEDGER_NAME,
            "entries": len(ledger),
            "sha256": hash_file(partial / erasure_ledger.LEDGER_NAME),
        },
        "face_key": {"included": False, "key_ids": key_ids},
        "not_included": ["search index", "job queue", "temp files", "unfinished uploads"],
    }
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    (partial / MANIFEST).write_bytes(data)
    (partial / (MANIFEST + ".sha256")).write_text(
        f"{hashlib.sha256(data).hexdigest()}  {MANIFEST}\n"
    )
    # The blobs and the snapshot's files reach the disk before the snapshot is published.
    os.sync()
    os.replace(partial, report.snapshot)


def _revision(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _data_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    for folder in BACKED_UP:
        root = data_dir / folder
        if not root.is_dir():
            continue
        for dirpath, _dirs, names in os.walk(root):
            for name in sorted(names):
                if name.startswith(".tmp-"):
                    continue  # a derived file being written (blobs.write_atomic)
                path = Path(dirpath) / name
                yield path.relative_to(data_dir).as_posix(), path


def _previous_files(dest: Path) -> dict[str, list[Any]]:
    """The newest snapshot's files, to skip hashing what did not change since."""
    for snapshot in reversed(snapshots(dest)):
        try:
            files: dict[str, list[Any]] = read_manifest(snapshot)["files"]
            return files
        except BackupError:
            continue
    return {}


def _known_hash(relative: str, stat: os.stat_result, previous: dict[str, list[Any]]) -> str | None:
    if relative.startswith("originals/"):
        return relative.rsplit("/", 1)[-1]  # its name is its hash (checked when copied)
    known = previous.get(relative)
    if known and known[1] == stat.st_size and known[2] == stat.st_mtime_ns:
        return str(known[0])
    return None


def _store(dest: Path, path: Path, sha: str | None) -> tuple[str, bool]:
    """Copy `path` into the blob store unless its content is there; (hash, copied)."""
    if sha is not None and blob_path(dest, sha).exists():
        return sha, False
    tmp_dir = dest / "blobs" / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        # No fsync per file (tens of thousands of small files): one sync of everything
        # before the manifest that names them is written (make_backup).
        actual = digest.hexdigest()
        if sha is not None and sha != actual and path.parent.parent.parent.name == "originals":
            raise BackupError(f"original {sha} is damaged (its content hashes to {actual})")
        target = blob_path(dest, actual)
        if target.exists():
            return actual, False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(name, target)
        return actual, True
    finally:
        Path(name).unlink(missing_ok=True)


def copy_verified(source: Path, target: Path, sha256: str) -> bool:
    """Copy a blob out of a backup, hashing it on the way; False when it does not match
    (then nothing is left at `target`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".restore-{target.name}")
    digest = hashlib.sha256()
    with source.open("rb") as src, temp.open("wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        temp.unlink()
        return False
    os.replace(temp, target)
    return True


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def embedding_keys(engine: Engine) -> dict[str, int]:
    """Fingerprint of each face-embedding key in use -> rows sealed with it."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key_id, COUNT(*) FROM face_embedding GROUP BY key_id"))
        return {str(key): int(count) for key, count in rows}
