"""Imports administrators start from the web UI: a folder under one of DAM_IMPORT_ROOTS,
run in the background with its progress, counts and report kept in `import_run`.

The folder is chosen as a root (by its position in the setting) and a path below it; the
resolved folder must stay inside that root (no `..`, no symlink out of it): the browser
never names a path the server did not offer. The work is `bulk_import.import_all`, the
same as `dam import`, so a run that stopped (a restart) is simply started again: what
was imported is skipped.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from dam import audit
from dam.clock import now
from dam.errors import InvalidInput, NotFound
from dam.models import ImportRun, LicenceStatus, User
from dam.runtime import Runtime
from dam.settings import Settings
from ingest.bulk_import import FileReport, ImportOptions, import_all, walk, write_report

log = logging.getLogger(__name__)
PROGRESS_EVERY = 25  # files between two progress writes
MAX_DEPTH = 10


@dataclass(frozen=True)
class ImportRequest:
    root: int  # position in DAM_IMPORT_ROOTS
    folder: str = ""  # below that root
    licence_status: LicenceStatus | None = None
    credit: str = ""
    folder_depth: int = 0
    dry_run: bool = False


def import_roots(settings: Settings) -> list[Path]:
    """The configured roots that exist and are folders."""
    return [p for p in settings.import_root_list if p.is_dir()]


def resolve_folder(settings: Settings, root: int, folder: str) -> Path:
    """The folder to import: inside the chosen root, existing, readable."""
    roots = import_roots(settings)
    if not roots:
        raise InvalidInput("No import folders are configured (DAM_IMPORT_ROOTS).")
    if not 0 <= root < len(roots):
        raise InvalidInput("Choose one of the import folders.")
    base = roots[root].resolve()
    relative = folder.strip().strip("/")
    if "\x00" in relative:
        raise InvalidInput("That folder name is not valid.")
    target = (base / relative).resolve() if relative else base
    if not target.is_relative_to(base):
        raise InvalidInput("The folder must be inside the import folder.")
    if not target.is_dir():
        raise InvalidInput("There is no such folder in the import folder.")
    return target


def start_import(
    rt: Runtime, session: Session, *, request: ImportRequest, actor: User
) -> ImportRun:
    """Record the run in `session` (the request's: on SQLite it holds the write lock),
    commit, and start it in the background."""
    if not 0 <= request.folder_depth <= MAX_DEPTH:
        raise InvalidInput(f"The folder depth is at most {MAX_DEPTH}.")
    folder = resolve_folder(rt.settings, request.root, request.folder)
    run = ImportRun(
        folder=str(folder),
        options={
            "licence_status": request.licence_status.value if request.licence_status else None,
            "credit": request.credit.strip()[:500],
            "folder_depth": request.folder_depth,
            "dry_run": request.dry_run,
        },
        started_by=actor.id,
    )
    session.add(run)
    audit.record(
        session,
        action="import.started",
        actor_id=actor.id,
        subject_type="import",
        subject_id=run.id,
        details={"dry_run": request.dry_run},
    )
    session.commit()
    run_id = run.id
    thread = threading.Thread(
        target=run_import, args=(rt, run_id), name=f"import-{run_id}", daemon=True
    )
    thread.start()
    return run


def run_import(rt: Runtime, run_id: str) -> None:
    """Do the import of run `run_id`, writing its progress as it goes."""
    with rt.session() as session:
        run = session.get(ImportRun, run_id)
        if run is None:
            return
        owner = session.get(User, run.started_by) if run.started_by else None
        options = ImportOptions(
            licence_status=(
                LicenceStatus(run.options["licence_status"])
                if run.options.get("licence_status")
                else None
            ),
            credit=str(run.options.get("credit") or ""),
            folder_depth=int(run.options.get("folder_depth") or 0),
            dry_run=bool(run.options.get("dry_run")),
        )
        folder = Path(run.folder)
        if owner is not None:
            session.expunge(owner)
    try:
        candidates = list(walk([folder]))
        _update(rt, run_id, status="running", total=len(candidates))
        done = 0
        lock = threading.Lock()

        def progress(_report: FileReport) -> None:
            nonlocal done
            with lock:
                done += 1
                if done % PROGRESS_EVERY == 0:
                    _update(rt, run_id, done=done)

        workers = max(1, rt.settings.workers)
        summary = import_all(
            rt, candidates, owner=owner, options=options, workers=workers, on_file=progress
        )
        report = write_report(summary, rt.settings.data_dir / "imports" / f"{run_id}.csv")
        _update(
            rt,
            run_id,
            status="done",
            done=len(candidates),
            counts={
                "imported": len(summary.imported),
                "would_import": summary.would_import,
                "duplicates": summary.duplicates,
                "skipped": summary.skipped,
                "refused": len(summary.failed),
            },
            report_path=str(report),
            finished_at=now(),
        )
    except Exception as exc:  # the run fails, the server goes on
        log.exception("import %s failed", run_id)
        _update(rt, run_id, status="failed", error=type(exc).__name__, finished_at=now())


def _update(rt: Runtime, run_id: str, **values: object) -> None:
    with rt.unit_of_work() as session:
        run = session.get(ImportRun, run_id)
        if run is not None:
            for name, value in values.items():
                setattr(run, name, value)
            session.add(run)


def list_runs(session: Session, limit: int = 20) -> list[ImportRun]:
    return list(
        session.exec(select(ImportRun).order_by(col(ImportRun.created_at).desc()).limit(limit))
    )


def get_run(session: Session, run_id: str) -> ImportRun:
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound("There is no import with this id.")
    return run
