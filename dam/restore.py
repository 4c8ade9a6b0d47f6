"""`dam restore SRC`: a backup (dam/backup.py) into an empty data dir and database.

In this order, so that nothing serves a state the law no longer allows: every file and the
database are checked against the manifest's hashes while they are copied; the audit
chain is verified; migrations bring an older backup up to date; then the erasure ledger
(the one at DAM_ERASURE_LEDGER, the snapshot's, the backup directory's and any given) is
re-applied by the packages' `restore.erasures` extensions, and the search index is rebuilt
by the `restore.rebuild` ones. The server is started only after this returns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text
from sqlalchemy.engine import Engine

from dam import audit, backup, db_dump, erasure_ledger, migrate
from dam.settings import Settings

if TYPE_CHECKING:
    from dam.runtime import Runtime

# What may already be in the data dir: the ledger (kept where a restore does not
# overwrite it) and the empty folders a runtime makes.
ALLOWED = {erasure_ledger.LEDGER_NAME, "originals", "derived", "tmp", "uploads"}


class RestoreError(Exception):
    """The backup cannot be restored here; the message says why."""


class ErasureReplay(Protocol):
    def __call__(self, rt: Runtime, entries: Sequence[erasure_ledger.LedgerEntry]) -> list[str]:
        """Erase again whoever the entries name and the database still holds; their ids."""
        ...


@dataclass
class RestoreReport:
    snapshot: Path
    files: int = 0
    bytes: int = 0
    audit_entries: int = 0
    migrated_from: list[str] = field(default_factory=list)
    migrated: bool = False
    ledger_entries: int = 0
    erased_again: list[str] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_snapshot(source: Path) -> Path:
    """`source` itself when it is a snapshot, else the newest snapshot in it."""
    source = source.expanduser().resolve()
    if (source / backup.MANIFEST).is_file():
        return source
    found = backup.snapshots(source)
    if not found:
        raise RestoreError(f"{source} holds no backup")
    return found[-1]


def backup_root(snapshot: Path) -> Path:
    return snapshot.parent.parent


def check_empty(settings: Settings) -> None:
    data_dir = settings.data_dir
    if not data_dir.exists():
        return
    for item in data_dir.iterdir():
        if item.name in ALLOWED and (item.is_file() or not any(item.iterdir())):
            continue
        if item.name.startswith("beeldbank.db") and item.is_file() and not item.stat().st_size:
            continue  # an empty SQLite file (opening one makes it)
        raise RestoreError(
            f"the data dir {data_dir} is not empty ({item.name}): restore only into an "
            "empty one (the erasure ledger may stay)"
        )


def restore_files(settings: Settings, snapshot: Path, report: RestoreReport) -> None:
    manifest = backup.read_manifest(snapshot)
    root = backup_root(snapshot)
    bad: list[str] = []
    restored: list[Path] = []
    for relative, (sha, size, _mtime) in sorted(manifest["files"].items()):
        parts = Path(relative).parts
        if parts[0] not in backup.BACKED_UP or ".." in parts or Path(relative).is_absolute():
            raise RestoreError(f"the manifest names a file outside the data dir: {relative}")
        source = backup.blob_path(root, sha)
        target = settings.data_dir / relative
        if not source.is_file() or not backup.copy_verified(source, target, sha):
            bad.append(relative)
            continue
        if parts[0] == "originals":
            os.chmod(target, 0o444)
        restored.append(target)
        report.files += 1
        report.bytes += int(size)
    os.sync()  # the files are on disk before the database that names them
    if bad:
        for path in restored:
            path.unlink(missing_ok=True)
        raise RestoreError(
            f"{len(bad)} file(s) in the backup are missing or do not match their hash "
            f"(nothing was restored), first: {', '.join(bad[:5])}"
        )


def restore_database(engine: Engine, snapshot: Path) -> None:
    manifest = backup.read_manifest(snapshot)
    info = manifest["database"]
    dump_file = snapshot / info["file"]
    if not dump_file.is_file() or backup.hash_file(dump_file) != info["sha256"]:
        raise RestoreError("the database copy in the backup does not match its hash")
    try:
        db_dump.load(engine, snapshot, db_dump.Dump(info["file"], info["dialect"], info["schema"]))
    except db_dump.DumpError as exc:
        raise RestoreError(str(exc)) from None
    engine.dispose()


def verify_and_migrate(rt: Runtime, snapshot: Path, report: RestoreReport) -> None:
    """The restored audit chain intact, then the schema brought up to date."""
    with rt.session() as session:
        result = audit.verify(session)
    if not result.ok:
        raise RestoreError(
            f"the audit log in the backup is broken at entry {result.first_bad}: this "
            "backup was altered; the restored data is left for inspection, do not serve it"
        )
    report.audit_entries = result.entries
    report.migrated_from = list(backup.read_manifest(snapshot)["revision"])
    migrate.upgrade(rt.engine)
    with rt.engine.connect() as conn:
        now_at = sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    report.migrated = now_at != report.migrated_from


def gather_ledger(
    settings: Settings, snapshot: Path, extra: Sequence[Path]
) -> list[erasure_ledger.LedgerEntry]:
    """Every erasure known anywhere: here, in the snapshot, in the backup directory."""
    manifest = backup.read_manifest(snapshot)
    in_snapshot = snapshot / manifest["ledger"]["file"]
    if backup.hash_file(in_snapshot) != manifest["ledger"]["sha256"]:
        raise RestoreError("the erasure ledger in the backup does not match its hash")
    return erasure_ledger.merge(
        erasure_ledger.read(settings.erasure_ledger_path),
        erasure_ledger.read(in_snapshot),
        erasure_ledger.read(backup_root(snapshot) / erasure_ledger.LEDGER_NAME),
        *(erasure_ledger.read(path) for path in extra),
    )


def finish(
    rt: Runtime, entries: Sequence[erasure_ledger.LedgerEntry], report: RestoreReport
) -> None:
    """Erase again, then rebuild what is derived (the packages' restore extensions)."""
    report.ledger_entries = len(entries)
    for replay in rt.wiring.extension("restore.erasures").values():
        report.erased_again.extend(replay(rt, entries))
    # The ledger here now holds everything the restore knew of.
    erasure_ledger.write(
        rt.settings.erasure_ledger_path,
        erasure_ledger.merge(erasure_ledger.read(rt.settings.erasure_ledger_path), entries),
    )
    for name, rebuild in rt.wiring.extension("restore.rebuild").items():
        rebuild(rt)
        report.rebuilt.append(name)


def check_face_key(rt: Runtime, snapshot: Path, report: RestoreReport) -> None:
    from dam.biometrics import FaceKeyMissing, face_key

    wanted = backup.read_manifest(snapshot)["face_key"]["key_ids"]
    if not wanted:
        return
    try:
        have = face_key(rt.settings).key_id
    except FaceKeyMissing:
        have = None
    if set(wanted) - {have}:
        report.notes.append(
            "The face embeddings were sealed with key fingerprint "
            + ", ".join(sorted(wanted))
            + f", but DAM_FACE_KEY here has {have or 'none'}: set the key from your secret "
            "store (docs/operations.md) or recognition will not know anyone."
        )


def restore(settings: Settings, source: Path, *, ledgers: Sequence[Path] = ()) -> RestoreReport:
    """The whole restore; the data dir and the database must be empty."""
    from dam.db import make_engine
    from dam.runtime import build_runtime

    snapshot = find_snapshot(source)
    report = RestoreReport(snapshot=snapshot)
    check_empty(settings)
    entries = gather_ledger(settings, snapshot, ledgers)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        if not db_dump.is_empty(engine):
            raise RestoreError("the database is not empty: restore only into an empty database")
        restore_files(settings, snapshot, report)
        restore_database(engine, snapshot)
    finally:
        engine.dispose()
    rt = build_runtime(settings)
    try:
        verify_and_migrate(rt, snapshot, report)
        finish(rt, entries, report)
        check_face_key(rt, snapshot, report)
    finally:
        rt.close()
    return report


def reapply_ledger(rt: Runtime) -> list[str]:
    """Erase again whoever the ledger at DAM_ERASURE_LEDGER names and the database still
    holds (a database put back by hand, without `dam restore`); `dam serve` does this
    before it serves. The ids erased; nothing when the ledger is empty or all done."""
    entries = erasure_ledger.read(rt.settings.erasure_ledger_path)
    if not entries:
        return []
    erased: list[str] = []
    for replay in rt.wiring.extension("restore.erasures").values():
        erased.extend(replay(rt, entries))
    return erased
