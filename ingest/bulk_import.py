"""`dam import`: bring folders of files in, resumably, past bad files, with a summary."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from dam.blobs import BlobStore
from dam.errors import DomainError
from dam.models import ImportedFile, User
from ingest.receive import create_asset
from ingest.sniff import HEAD_BYTES, sniff


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)  # asset ids
    duplicates: int = 0
    skipped: int = 0  # already imported by an earlier run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): not stored
    processing_failed: list[tuple[str, str]] = field(default_factory=list)  # (name, error)
    bytes_read: int = 0


@dataclass(frozen=True)
class Candidate:
    path: Path
    size: int
    mtime_ns: int


def walk(paths: Iterable[Path]) -> Iterator[Candidate]:
    """Every regular file under `paths`, sorted, hidden files and folders left out."""
    for root in paths:
        if root.is_file():
            stat = root.stat()
            yield Candidate(root.resolve(), stat.st_size, stat.st_mtime_ns)
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                path = Path(folder) / name
                if path.is_symlink() or not path.is_file():
                    continue
                stat = path.stat()
                yield Candidate(path.resolve(), stat.st_size, stat.st_mtime_ns)


def import_file(
    session: Session,
    *,
    blobs: BlobStore,
    candidate: Candidate,
    owner: User | None,
    summary: ImportSummary,
) -> None:
    """Import one file, recording the outcome in `summary` (never raising for bad files)."""
    key = str(candidate.path)
    seen = session.get(ImportedFile, key)
    if seen is not None and (seen.size, seen.mtime_ns) == (candidate.size, candidate.mtime_ns):
        summary.skipped += 1
        return
    try:
        with candidate.path.open("rb") as fh:
            sniffed = sniff(fh.read(HEAD_BYTES))
        stored = blobs.put_file(candidate.path)
    except DomainError as exc:
        summary.failed.append((key, exc.message))
        return
    except OSError as exc:
        summary.failed.append((key, f"Cannot read the file: {exc.strerror or exc}"))
        return
    summary.bytes_read += stored.size
    received = create_asset(
        session,
        stored=stored,
        sniffed=sniffed,
        filename=candidate.path.name,
        owner=owner,
        source="import",
    )
    if received.duplicate:
        summary.duplicates += 1
    else:
        summary.imported.append(received.asset.id)
    session.merge(
        ImportedFile(
            path=key,
            size=candidate.size,
            mtime_ns=candidate.mtime_ns,
            sha256=stored.sha256,
            asset_id=received.asset.id,
        )
    )
    session.commit()


def import_paths(
    session: Session,
    *,
    blobs: BlobStore,
    paths: Iterable[Path],
    owner: User | None,
    on_file: Callable[[Candidate], None] | None = None,
) -> ImportSummary:
    summary = ImportSummary()
    for candidate in walk(paths):
        import_file(session, blobs=blobs, candidate=candidate, owner=owner, summary=summary)
        if on_file is not None:
            on_file(candidate)
    return summary
