"""The erasure ledger: one JSON line per erased person (ids, a date and what happened to
the pictures; never a name), kept apart from the database so that a restore from an older
backup can erase again whoever was erased after that backup (GDPR art. 17 survives a
disaster recovery).

The ledger is appended after the erasure commits. A crash between the two would lose the
line, so every backup also adds the database's tombstones to the ledger it copies: the
ledger in a backup is always complete for the erasures that backup's database knows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection

from dam.models import ErasureTombstone

LEDGER_NAME = "erasure-ledger.jsonl"


@dataclass(frozen=True, order=True)
class LedgerEntry:
    erased_at: str  # ISO 8601, UTC
    person_id: str
    tombstone_id: str
    assets: str  # "redacted" | "deleted": what the privacy officer chose
    actor_id: str | None = None

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def entry_for(tombstone: ErasureTombstone) -> LedgerEntry:
    return LedgerEntry(
        erased_at=tombstone.executed_at.astimezone(UTC).isoformat(),
        person_id=tombstone.person_id,
        tombstone_id=tombstone.id,
        assets=tombstone.assets,
        actor_id=tombstone.executed_by,
    )


def append(path: Path, entry: LedgerEntry) -> None:
    """Add one line and fsync it (an erasure is not undone by a power cut)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (entry.line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> list[LedgerEntry]:
    """The entries of one ledger file (none when it does not exist). A torn last line (a
    crash while appending) is skipped; any other bad line is an error."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            entries.append(
                LedgerEntry(
                    erased_at=str(data["erased_at"]),
                    person_id=str(data["person_id"]),
                    tombstone_id=str(data["tombstone_id"]),
                    assets=str(data["assets"]),
                    actor_id=data.get("actor_id"),
                )
            )
        except (ValueError, KeyError, TypeError):
            if number == len(lines):
                continue
            raise ValueError(f"{path}: line {number} is not a ledger entry") from None
    return entries


def merge(*groups: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """One entry per tombstone, oldest first."""
    by_tombstone: dict[str, LedgerEntry] = {}
    for group in groups:
        for entry in group:
            by_tombstone.setdefault(entry.tombstone_id, entry)
    return sorted(by_tombstone.values())


def from_database(connection: Connection) -> list[LedgerEntry]:
    """The erasures the database records (its tombstones)."""
    table = ErasureTombstone.__table__  # type: ignore[attr-defined]
    return [
        entry_for(ErasureTombstone.model_validate(dict(row._mapping)))
        for row in connection.execute(select(table))
    ]


def write(path: Path, entries: Iterable[LedgerEntry]) -> None:
    """Replace `path` by these entries, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    with temp.open("w", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(entry.line() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)


def parse_time(entry: LedgerEntry) -> datetime:
    return datetime.fromisoformat(entry.erased_at)
