"""Imports administrators start from the web UI: a folder under one of DAM_IMPORT_ROOTS,
run as a job of the queue (`import_folder`), its progress, counts and report kept in
`import_run`.

The folder is chosen as a root (by its position in the setting) and a path below it; the
resolved folder must stay inside that root (no `..`, no symlink out of it): the browser
never names a path the server did not offer. The work is `bulk_import.import_all`, the
same as `dam import`. A job whose process died (a restart, a kill) is taken over by the
queue (`jobs.reclaim_orphans`, or the sweeper once its heartbeat is stale) and runs
again: what was imported is skipped, the rest follows, and what the run itself imported
before the interruption still counts as imported by it (`imported_file.run_id`). The
run's page reads the job for what is going on now (`RunState`): waiting, running,
interrupted and continuing, done, or failed and why.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from dam import audit, jobs
from dam.clock import now
from dam.disk import is_disk_full
from dam.errors import N_, InvalidInput, Message, NotFound, ProcessingError
from dam.jobs import StageContext
from dam.messages import failure_columns, failure_of
from dam.models import ImportRun, Job, JobStatus, LicenceStatus, User
from dam.settings import Settings
from ingest.bulk_import import FileReport, ImportOptions, import_all, walk, write_report

log = logging.getLogger(__name__)
IMPORT_TASK = "import_folder"
PROGRESS_EVERY_S = 2.0  # between two progress writes (the page refreshes every 2 s)
MAX_DEPTH = 10
FINISHED = ("done", "failed")

# Why a run failed, for people (catalog message ids: the page shows them translated).
FOLDER_GONE = N_(
    "The folder can no longer be read: it was moved or removed, or the share is not "
    "mounted. Check it, then start the import again."
)
FOLDER_NOT_ALLOWED = N_(
    "This folder is no longer one of the import folders (DAM_IMPORT_ROOTS). "
    "Start the import again from one of them."
)
STOPPED = N_("The import stopped with an error. Start it again: what was imported is skipped.")
LOST = N_(
    "The import was interrupted and cannot continue by itself. Start it again: what was "
    "imported is skipped."
)


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
    session: Session, *, settings: Settings, request: ImportRequest, actor: User
) -> ImportRun:
    """Record the run and its job in `session` and commit: the queue runs it."""
    if not 0 <= request.folder_depth <= MAX_DEPTH:
        raise InvalidInput(N_("The folder depth is at most %(max)s."), params={"max": MAX_DEPTH})
    folder = resolve_folder(settings, request.root, request.folder)
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
    run.job_id = jobs.schedule(session, stage=IMPORT_TASK, params={"run_id": run.id}).id
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
    return run


# --- the job --------------------------------------------------------------------------


def import_folder(ctx: StageContext) -> None:
    """The `import_folder` job: the run named in its params, from the start or (run again
    after an interruption) from where it stopped, since what was imported is skipped."""
    run_id = str(ctx.params.get("run_id", ""))
    with ctx.session() as session:
        run = session.get(ImportRun, run_id)
        if run is None or run.status in FINISHED:
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
            run_id=run.id,  # a file it took before an interruption still counts as its own
        )
        folder = Path(run.folder)
        if owner is not None:
            session.expunge(owner)  # read by the import's threads, each in its own session
    try:
        problem = _folder_problem(ctx.settings, folder)
        if problem is not None:
            raise ProcessingError(problem)
        candidates = list(walk([folder]))
        _update(ctx, run_id, status="running", total=len(candidates), done=0)
        with _Progress(ctx, run_id, len(candidates)) as progress:
            summary = import_all(
                ctx.runtime,
                candidates,
                owner=owner,
                options=options,
                workers=max(1, ctx.settings.workers),
                on_file=progress.count,
            )
        report = write_report(summary, ctx.settings.data_dir / "imports" / f"{run_id}.csv")
        _update(
            ctx,
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
    except Exception as exc:
        if is_disk_full(exc):
            raise  # the queue runs the job again once there is space; the run waits
        if isinstance(exc, ProcessingError):
            message = Message.of(exc)
        else:  # the traceback to the log (ids only); the page says what to do
            log.exception("import %s stopped", run_id)
            message = Message(STOPPED)
        _update(ctx, run_id, status="failed", finished_at=now(), **failure_columns(message))
        raise ProcessingError(message.id, params=message.params) from exc


def _folder_problem(settings: Settings, folder: Path) -> str | None:
    """Why the run's folder cannot be imported now (it was fine when the run started)."""
    roots = [root.resolve() for root in settings.import_root_list]
    if not any(folder.resolve().is_relative_to(root) for root in roots):
        return FOLDER_NOT_ALLOWED
    if not folder.is_dir() or not os.access(folder, os.R_OK | os.X_OK):
        return FOLDER_GONE
    return None


class _Progress:
    """Files done, written to the run and the job every PROGRESS_EVERY_S by one thread:
    never a write per file, and a heartbeat even while one large file takes minutes (a
    job without one for DAM_JOB_STALE_AFTER_S is taken for dead and run again)."""

    def __init__(self, ctx: StageContext, run_id: str, total: int) -> None:
        self.ctx, self.run_id, self.total = ctx, run_id, total
        self.done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"import-progress-{run_id}", daemon=True
        )

    def count(self, _report: FileReport) -> None:
        with self._lock:
            self.done += 1

    def __enter__(self) -> _Progress:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(PROGRESS_EVERY_S):
            with self._lock:
                done = self.done
            try:
                _update(self.ctx, self.run_id, done=done)
                self.ctx.report_progress(done / self.total if self.total else 0.0)
            except Exception:  # a missed write is no reason to stop the import
                log.exception("could not record the progress of import %s", self.run_id)


def _update(ctx: StageContext, run_id: str, **values: object) -> None:
    with ctx.unit_of_work() as session:
        run = session.get(ImportRun, run_id)
        if run is not None:
            for name, value in values.items():
                setattr(run, name, value)
            session.add(run)


# --- reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunState:
    """A run as its pages show it: what its job says is going on now."""

    run: ImportRun
    # queued | running | resuming (interrupted, queued to go on) | done | failed
    status: str
    error: Message | None = None  # why it failed (shown in the reader's language)
    waiting_for_space: bool = False
    resumed: bool = False  # ran more than once (its counts include what it did before)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def state_of(run: ImportRun, job: Job | None) -> RunState:
    """The run's real state: its own row once it finished, else its job's."""
    resumed = job is not None and job.attempts > 1
    if run.status == "done":
        return RunState(run, "done", resumed=resumed)
    if run.status == "failed":
        return RunState(run, "failed", error=failure_of(run) or Message(STOPPED), resumed=resumed)
    if job is None:  # a run from before imports were jobs: its thread died with its process
        return RunState(run, "failed", error=Message(LOST))
    if job.status == JobStatus.queued:
        space = job.error == jobs.WAITING_FOR_SPACE
        status = "resuming" if job.attempts > 0 else "queued"
        return RunState(run, status, waiting_for_space=space, resumed=job.attempts > 0)
    if job.status == JobStatus.running:
        return RunState(run, "running", resumed=resumed)
    # The job ended and the run did not say how: it could not write its end (its database
    # was away), or it was cancelled.
    return RunState(run, "failed", error=Message(STOPPED), resumed=resumed)


def list_runs(session: Session, limit: int = 20) -> list[RunState]:
    runs = list(
        session.exec(select(ImportRun).order_by(col(ImportRun.created_at).desc()).limit(limit))
    )
    job_ids = [r.job_id for r in runs if r.job_id]
    found = (
        {j.id: j for j in session.exec(select(Job).where(col(Job.id).in_(job_ids)))}
        if job_ids
        else {}
    )
    return [state_of(r, found.get(r.job_id) if r.job_id else None) for r in runs]


def get_run(session: Session, run_id: str) -> RunState:
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound("There is no import with this id.")
    return state_of(run, session.get(Job, run.job_id) if run.job_id else None)
