"""`dam import`: bring an archive in. Recursive, resumable and idempotent (a file already
imported with the same size and date is skipped without being read), past bad files,
in parallel, with what sidecars and mapping files say, and a report of every file.

The per-file work is `import_file`; `import_all` runs it over many files with N threads
(hashing and copying dominate; the database serialises only the short commits).
"""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from dam import collections
from dam.assets import set_tags, tags_of
from dam.blobs import BlobStore, hash_file
from dam.chunks import chunks
from dam.collections import CollectionCreate
from dam.errors import DomainError
from dam.models import Asset, Collection, ImportedFile, LicenceStatus, User
from dam.runtime import Runtime
from ingest import archive_xmp
from ingest.image.metadata import licence_fields
from ingest.import_mapping import FieldMapping
from ingest.receive import create_asset
from ingest.sniff import HEAD_BYTES, sniff

SIDECAR_SUFFIXES = (".xmp", ".XMP")
MAX_SIDECAR_BYTES = 4 * 1024 * 1024

# What happened to a file (the report's `outcome` column).
IMPORTED, DUPLICATE, SKIPPED, REFUSED = "imported", "duplicate", "skipped", "refused"
WOULD_IMPORT = "would_import"  # --dry-run


@dataclass
class FileReport:
    path: str
    outcome: str
    reason: str = ""
    asset_id: str = ""
    sidecar: str = ""
    collection: str = ""
    size: int = 0


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)  # asset ids
    duplicates: int = 0
    skipped: int = 0  # already imported by an earlier run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): not stored
    processing_failed: list[tuple[str, str]] = field(default_factory=list)  # (name, error)
    bytes_read: int = 0
    would_import: int = 0  # --dry-run
    files: list[FileReport] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, report: FileReport) -> None:
        with self._lock:
            self.files.append(report)
            if report.outcome == IMPORTED:
                self.imported.append(report.asset_id)
                self.bytes_read += report.size
            elif report.outcome == DUPLICATE:
                self.duplicates += 1
                self.bytes_read += report.size
            elif report.outcome == SKIPPED:
                self.skipped += 1
            elif report.outcome == REFUSED:
                self.failed.append((report.path, report.reason))
            elif report.outcome == WOULD_IMPORT:
                self.would_import += 1


@dataclass(frozen=True)
class Candidate:
    path: Path
    size: int
    mtime_ns: int
    root: Path | None = None  # the folder the import was pointed at


@dataclass(frozen=True)
class ImportOptions:
    licence_status: LicenceStatus | None = None  # None: the owner's default, else unknown
    credit: str = ""  # for files whose own metadata names none
    folder_depth: int = 0  # >0: the first N folder levels name a collection
    mapping: FieldMapping | None = None
    dry_run: bool = False
    run_id: str | None = None  # the web import (`import_run`) this is: kept per file


EARLIER_RUN = "Already imported by an earlier run."
THIS_RUN = "Imported by this run before it was interrupted."


@dataclass(frozen=True)
class Imported:
    """What an earlier (or this, interrupted) run recorded for a path."""

    asset_id: str
    run_id: str | None
    outcome: str | None  # IMPORTED or DUPLICATE; None for rows from before it was kept

    def report(self, path: str, run_id: str | None) -> FileReport:
        """The file's line in `run_id`'s report: its own outcome when this run took it
        before an interruption, else skipped."""
        if run_id is not None and self.run_id == run_id and self.outcome in (IMPORTED, DUPLICATE):
            return FileReport(path, self.outcome, THIS_RUN, asset_id=self.asset_id)
        return FileReport(path, SKIPPED, EARLIER_RUN, asset_id=self.asset_id)


def is_sidecar(path: Path) -> bool:
    return path.suffix in SIDECAR_SUFFIXES


def walk(paths: Iterable[Path]) -> Iterator[Candidate]:
    """Every regular file under `paths`, sorted, hidden files and folders and XMP
    sidecars (read with their picture) left out."""
    for given in paths:
        root = given.resolve()
        if root.is_file():
            stat = root.stat()
            yield Candidate(root, stat.st_size, stat.st_mtime_ns, root.parent)
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if name.startswith(".") or is_sidecar(path):
                    continue
                if path.is_symlink() or not path.is_file():
                    continue
                stat = path.stat()
                yield Candidate(path, stat.st_size, stat.st_mtime_ns, root)


def sidecar_of(path: Path) -> Path | None:
    """`photo.jpg.xmp` (darktable, digiKam) or else `photo.xmp` (Lightroom, Bridge)."""
    for suffix in SIDECAR_SUFFIXES:
        for candidate in (path.with_name(path.name + suffix), path.with_suffix(suffix)):
            if candidate.is_file() and not candidate.is_symlink():
                return candidate
    return None


def folder_collection(candidate: Candidate, depth: int) -> str:
    """The collection title a file's folder gives ("Evenementen / 2019"), or ""."""
    if depth <= 0 or candidate.root is None:
        return ""
    try:
        parts = candidate.path.parent.relative_to(candidate.root).parts
    except ValueError:
        return ""
    return " / ".join(parts[:depth])[:200]


def describe(
    candidate: Candidate, options: ImportOptions
) -> tuple[dict[str, Any], str, str | None]:
    """What the file's sidecar (and, for mapped custom fields, its embedded XMP) says,
    as create_asset's fields; the sidecar's path; a problem with the sidecar, if any."""
    sidecar = sidecar_of(candidate.path)
    custom = dict(options.mapping.namespaces) if options.mapping else None
    found = archive_xmp.ArchiveXmp()
    problem = None
    if sidecar is not None:
        try:
            if sidecar.stat().st_size > MAX_SIDECAR_BYTES:
                problem = "The sidecar is too large to read; its metadata was left out."
            else:
                found = archive_xmp.parse(sidecar.read_bytes(), custom)
        except OSError as exc:
            problem = f"Cannot read the sidecar: {exc.strerror or exc}"
    if options.mapping and options.mapping.fields:
        # Custom fields may also sit in the file itself; the standard ones are read by
        # the probe stage, as for every upload.
        found = found.merged_over(archive_xmp.parse(_embedded_xmp(candidate.path), custom))
    fields: dict[str, Any] = {
        "title": found.title or "",
        "description": found.description or "",
        "alt_text": found.alt_text or "",
        "tags": list(found.keywords),
        "licence": licence_fields(
            {
                "copyright": found.copyright,
                "credit": found.credit,
                "usage_terms": found.usage_terms,
                "web_statement": found.web_statement,
                "creator": found.creator,
            }
        ),
        "meta": archive_xmp.as_meta(found),
    }
    if options.mapping:
        options.mapping.apply(found.custom, fields)
    if options.credit and not fields["licence"].get("credit"):
        fields["licence"]["credit"] = options.credit
    return fields, str(sidecar) if sidecar else "", problem


def _embedded_xmp(path: Path) -> bytes | None:
    from PIL import Image  # only when a mapping asks for custom fields

    try:
        with Image.open(path) as image:
            xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    except Exception:  # not an image Pillow opens (a video, a broken file): no XMP then
        return None
    if isinstance(xmp, str):
        return xmp.encode("utf-8", "replace")
    return xmp if isinstance(xmp, bytes) else None


class FolderCollections:
    """Collections named after folders, found or created once per title (threads share it)."""

    def __init__(self, owner: User | None) -> None:
        self.owner = owner
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def id_for(self, session: Session, title: str) -> str:
        with self._lock:
            if title in self._ids:
                return self._ids[title]
            existing = session.exec(
                select(Collection.id)
                .where(Collection.title == title)
                .order_by(col(Collection.created_at))
            ).first()
            if existing is None:
                assert self.owner is not None  # checked before the import starts
                created = collections.create_collection(
                    session, data=CollectionCreate(title=title, description=""), owner=self.owner
                )
                existing = created.id
            self._ids[title] = existing
            return existing


def import_file(
    session: Session,
    *,
    blobs: BlobStore,
    candidate: Candidate,
    owner: User | None,
    summary: ImportSummary,
    options: ImportOptions | None = None,
    folders: FolderCollections | None = None,
) -> FileReport:
    """Import one file, recording the outcome in `summary` (never raising for bad files)."""
    options = options or ImportOptions()
    key = str(candidate.path)
    report = FileReport(key, SKIPPED, size=candidate.size)
    seen = session.get(ImportedFile, key)
    if seen is not None and (seen.size, seen.mtime_ns) == (candidate.size, candidate.mtime_ns):
        report = Imported(seen.asset_id, seen.run_id, seen.outcome).report(key, options.run_id)
        summary.add(report)
        return report
    report.collection = folder_collection(candidate, options.folder_depth)
    try:
        with candidate.path.open("rb") as fh:
            sniffed = sniff(fh.read(HEAD_BYTES))
        fields, report.sidecar, problem = describe(candidate, options)
        if options.dry_run:
            digest = hash_file(candidate.path)
            same = session.exec(
                select(Asset.id).where(Asset.sha256 == digest, col(Asset.is_evidence).is_(False))
            ).first()
            report.outcome, report.asset_id = (DUPLICATE, same) if same else (WOULD_IMPORT, "")
            report.reason = problem or ""
            summary.add(report)
            return report
        stored = blobs.put_file(candidate.path)
    except DomainError as exc:
        report.outcome, report.reason = REFUSED, exc.message
        summary.add(report)
        return report
    except OSError as exc:
        report.outcome, report.reason = REFUSED, f"Cannot read the file: {exc.strerror or exc}"
        summary.add(report)
        return report
    received = create_asset(
        session,
        stored=stored,
        sniffed=sniffed,
        filename=candidate.path.name,
        owner=owner,
        source="import",
        title=fields["title"],
        description=fields["description"],
        tags=fields["tags"],
        alt_text=fields["alt_text"],
        licence=fields["licence"],
        licence_status=options.licence_status,
        meta=fields["meta"],
    )
    report.outcome = DUPLICATE if received.duplicate else IMPORTED
    report.asset_id = received.asset.id
    if received.duplicate:
        # The same picture twice in an archive (a copy, an export): what this copy's
        # sidecar says fills what the stored one lacks, so no tagging is lost.
        fill_empty(session, received.asset, fields)
    report.reason = problem or ""
    if report.collection and folders is not None and owner is not None:
        collection_id = folders.id_for(session, report.collection)
        collections.add_assets(
            session, collection_id=collection_id, asset_ids=[received.asset.id], actor=owner
        )
    session.merge(
        ImportedFile(
            path=key,
            size=candidate.size,
            mtime_ns=candidate.mtime_ns,
            sha256=stored.sha256,
            asset_id=received.asset.id,
            run_id=options.run_id,
            outcome=report.outcome,
        )
    )
    session.commit()
    summary.add(report)
    return report


def fill_empty(session: Session, asset: Asset, fields: dict[str, Any]) -> None:
    """Put `fields` (as describe() gives them) into the fields of `asset` nobody filled."""
    changed = False
    for name in ("title", "description", "alt_text"):
        if fields.get(name) and not getattr(asset, name):
            setattr(asset, name, str(fields[name])[: 500 if name == "title" else 20_000])
            changed = True
    licence = dict(asset.licence or {})
    for key, value in (fields.get("licence") or {}).items():
        if value and not licence.get(key):
            licence[key], changed = value, True
    meta = dict(asset.meta or {})
    for key, value in (fields.get("meta") or {}).items():
        if key not in meta:
            meta[key], changed = value, True
    if fields.get("tags") and not tags_of(session, asset.id):
        set_tags(session, asset.id, fields["tags"])
        changed = True
    if changed:
        asset.licence, asset.meta = licence, meta
        session.add(asset)


def already_imported(session: Session, candidates: Sequence[Candidate]) -> dict[str, Imported]:
    """The paths among `candidates` an earlier run (or this one, before an interruption)
    imported as they are now (same size and date), with what it recorded: read in a few
    queries, so a re-run over a finished archive is quick."""
    wanted = {str(c.path): (c.size, c.mtime_ns) for c in candidates}
    done: dict[str, Imported] = {}
    for piece in chunks(list(wanted), 500):
        for row in session.exec(select(ImportedFile).where(col(ImportedFile.path).in_(piece))):
            if wanted.get(row.path) == (row.size, row.mtime_ns):
                done[row.path] = Imported(row.asset_id, row.run_id, row.outcome)
    return done


def import_all(
    rt: Runtime,
    candidates: Sequence[Candidate],
    *,
    owner: User | None,
    options: ImportOptions,
    workers: int = 1,
    on_file: Callable[[FileReport], None] | None = None,
) -> ImportSummary:
    """Import `candidates` with `workers` threads, each file in its own session."""
    summary = ImportSummary()
    folders = FolderCollections(owner) if options.folder_depth > 0 else None
    with rt.session() as session:
        done = already_imported(session, candidates)
    todo = []
    for candidate in candidates:
        earlier = done.get(str(candidate.path))
        if earlier is not None:
            report = earlier.report(str(candidate.path), options.run_id)
            report.collection = folder_collection(candidate, options.folder_depth)
            summary.add(report)
            if on_file is not None:
                on_file(report)
        else:
            todo.append(candidate)

    def one(candidate: Candidate) -> None:
        with rt.session() as session:
            try:
                report = import_file(
                    session,
                    blobs=rt.blobs,
                    candidate=candidate,
                    owner=owner,
                    summary=summary,
                    options=options,
                    folders=folders,
                )
            except Exception as exc:  # one file must not end the migration
                session.rollback()
                report = FileReport(
                    str(candidate.path), REFUSED, f"Import failed: {type(exc).__name__}"
                )
                summary.add(report)
        if on_file is not None:
            on_file(report)

    if workers <= 1:
        for candidate in todo:
            one(candidate)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
            for _ in pool.map(one, todo):
                pass
    return summary


REPORT_COLUMNS = ("path", "outcome", "reason", "asset_id", "sidecar", "collection")


def write_report(summary: ImportSummary, target: Path) -> Path:
    """A CSV line per file: what happened to it and why."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_COLUMNS)
        for report in sorted(summary.files, key=lambda r: r.path):
            writer.writerow([getattr(report, name) for name in REPORT_COLUMNS])
    return target
