"""Pipeline jobs: scheduling, the idempotent runner and the sweeper.

The database is the source of truth; the queue only carries job ids. A job is
claimed with one conditional UPDATE, so a job id delivered twice runs once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dam import changes, events, owner
from dam.blobs import BlobStore
from dam.clock import now
from dam.disk import is_disk_full, shortfall
from dam.errors import N_, Message, ProcessingError
from dam.memory import MemoryLedger, TooBigForBudget, release_free_memory
from dam.messages import failure_columns, record_failure
from dam.models import Asset, AssetKind, AssetStatus, Job, JobStatus
from dam.settings import Settings
from dam.wiring import StageHandler, runtime_of

if TYPE_CHECKING:
    from dam.runtime import Runtime

log = logging.getLogger(__name__)


class Enqueuer(Protocol):
    def enqueue(self, job_ids: Iterable[str]) -> None: ...

    def pending_count(self) -> int: ...


@dataclass
class StageContext:
    """What a stage handler gets: the job, its runtime (sessions, settings, blobs,
    services) and the means to report progress."""

    job_id: str
    asset_id: str  # "" for a task about no asset (a person, a ZIP, an import)
    runtime: Runtime
    report_progress: Callable[[float], None]
    # The runtime's settings, unless a caller (a test) runs the stage with others.
    settings: Settings = None  # type: ignore[assignment]
    params: dict[str, Any] = field(default_factory=dict)  # a task's Job.params
    person_id: str | None = None  # whom a task about a person is about
    # What the asset's stage before this one handed on (`hand_on`), when this stage runs
    # right after it in the same worker (Wiring.add_stage(same_worker=True)); else None.
    received: Any = None
    handed: Any = None

    def __post_init__(self) -> None:
        if self.settings is None:
            self.settings = self.runtime.settings

    def hand_on(self, value: object) -> None:
        """Leave `value` for the asset's next stage if it runs in this worker right after
        this one (its `received`); dropped otherwise. Held in memory only in between."""
        self.handed = value

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def blobs(self) -> BlobStore:
        return self.runtime.blobs

    # A stage commits through sessions of its own; the runtime drains what they recorded
    # once, after the job (Runtime._run_job), not after each of their commits. `drain`:
    # this session's commit drains at once and waits for it, even when another drainer
    # claimed the rows (an erasure: the person has left search before the job is done).
    def session(self, *, drain: bool = False) -> Session:
        return self.runtime.session(drain=drain)

    def unit_of_work(self) -> AbstractContextManager[Session]:
        return self.runtime.unit_of_work(drain=False)


def schedule(
    session: Session,
    *,
    stage: str,
    asset_id: str | None = None,
    person_id: str | None = None,
    params: dict[str, Any] | None = None,
    enqueue: bool = True,
) -> Job:
    """Add a job; its id is put on the queue once the session commits (`enqueue=False`:
    the caller puts it there with `enqueue_now` once what the job reads is in place after
    the commit; should the caller die first, the sweeper sends it).

    A pipeline stage is about an asset. A task (`Wiring.add_task`) is about an asset, a
    person (`person_id`: an access export, an erasure), or neither: its `params` say what
    (a ZIP's batch, an import run). Such a job never borrows an asset: deleting that
    asset would delete the job with it."""
    job = Job(asset_id=asset_id, person_id=person_id, stage=stage, params=params)
    session.add(job)
    if enqueue:
        session.info.setdefault("jobs_to_enqueue", []).append(job.id)
    return job


def start_pipeline(session: Session, asset: Asset, *, enqueue: bool = True) -> Job | None:
    """Schedule the first stage of the asset's pipeline (None if its kind has none)."""
    stages = runtime_of(session).wiring.pipeline_for(AssetKind(asset.kind))
    if not stages:
        return None
    asset.status = AssetStatus.processing
    record_failure(asset, None)
    return schedule(session, asset_id=asset.id, stage=stages[0], enqueue=enqueue)


def enqueue_now(session: Session, job_ids: Iterable[str]) -> None:
    """Put committed jobs (scheduled with `enqueue=False`) on the session's queue."""
    ids = list(job_ids)
    queue: Enqueuer | None = session.info.get("queue")
    if not ids or queue is None:
        return
    try:
        queue.enqueue(ids)
    except Exception:
        log.exception("could not enqueue %d job(s); the sweeper will", len(ids))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Events first: subscribers hear "stored" before an inline queue (tests) has already
    # run the whole pipeline and announced "processed".
    events.publish_pending(session)
    job_ids = session.info.pop("jobs_to_enqueue", None)
    queue: Enqueuer | None = session.info.get("queue")
    if job_ids and queue is not None:
        try:
            queue.enqueue(job_ids)
        except Exception:
            # The commit stands (the jobs are in the database); a queue that cannot take
            # them now (a full disk under the SQLite queue, Redis away) must not turn the
            # request into an error. The sweeper sends them once the queue is empty.
            log.exception("could not enqueue %d job(s); the sweeper will", len(job_ids))
    # Last: with an inline queue the jobs above have run, and one drain covers them all.
    changes.after_commit(session)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("jobs_to_enqueue", None)
    events.drop_pending(session)
    changes.after_rollback(session)


# Seconds before a job that ran out of disk space tries again (then every minute).
STORAGE_RETRY_S = (5.0, 15.0, 30.0, 60.0)
WAITING_FOR_SPACE = N_("Waiting for free disk space; the job will continue by itself.")
# What a person reads when a stage crashed: the traceback (ids only) is in the log.
CRASHED = N_(
    "Processing stopped with an unexpected error. The original is kept; an administrator can retry."
)


class JobRunner:
    """Runs one job by id: claim, run the stage, record the outcome, schedule the next."""

    def __init__(self, runtime: Runtime, *, ledger: MemoryLedger | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.ledger = ledger or MemoryLedger(
            self.settings.job_memory_bytes, limit=self.settings.job_memory_limit_bytes
        )
        self._local = threading.local()  # per worker thread: whether a job reserved memory

    @property
    def blobs(self) -> BlobStore:
        return self.runtime.blobs

    @property
    def queue(self) -> Enqueuer:
        return self.runtime.queue

    def session(self) -> Session:
        return self.runtime.session(drain=False)  # drained after the job (Runtime._run_job)

    def run(self, job_id: str) -> None:
        """Run the job, then the asset's next stages that run in the same worker."""
        next_id: str | None = job_id
        received: object = None
        self._local.reserved = False
        try:
            while next_id is not None:
                next_id, received = self._run_one(next_id, received)
        finally:
            received = None
            if self._local.reserved:
                self._release_memory()

    def _release_memory(self) -> None:
        """Give the memory the jobs freed back to the system (malloc_trim) once this worker
        has nothing queued to do next. Trimmed after every job, the next photo's decode
        had to fault all its pages in again (~46,000 page faults per 24-megapixel photo
        in bench/ingest_images.py; ~17,000 when trimmed only on an empty queue, ~0.05 CPU
        s less kernel time per photo, docs/models.md); kept while work is waiting, the
        next job reuses them, and the memory goes back as soon as the queue is empty."""
        try:
            busy = self.queue.pending_count() > 0
        except Exception:
            busy = False  # the queue is away: give the memory back
        if not busy:
            release_free_memory()

    def _run_one(self, job_id: str, received: object) -> tuple[str | None, object]:
        """Run one job; the asset's next job if it is to run here at once, and what this
        one handed on to it."""
        job = self._claim(job_id)
        if job is None:
            return None, None
        wiring = self.runtime.wiring
        # A job about no asset is a task whatever happens: its outcome is its own (a stage
        # it names but nobody registered fails the job, not an asset).
        task = job.stage in wiring.tasks or job.asset_id is None
        handler = wiring.tasks.get(job.stage) if task else wiring.stages.get(job.stage)
        ctx = StageContext(
            job_id=job.id,
            asset_id=job.asset_id or "",
            runtime=self.runtime,
            report_progress=lambda fraction: self._progress(job.id, fraction),
            params=dict(job.params or {}),
            person_id=job.person_id,
            received=received,
        )
        try:
            next_id = self._run_stage(job, handler, ctx, task=task)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # Recording the outcome hit the full disk (SQLite lives there too): run the
            # stage again once there is space (stages are idempotent).
            self._defer(job.id)
            return None, None
        return next_id, ctx.handed if next_id is not None else None

    def _run_stage(
        self, job: Job, handler: StageHandler | None, ctx: StageContext, *, task: bool
    ) -> str | None:
        started = time.perf_counter()
        try:
            if handler is None:
                raise RuntimeError(f"no handler registered for stage {job.stage!r}")
            estimate = self.runtime.wiring.memory.get(job.stage)
            need = estimate(ctx) if estimate is not None else 0
            if need > 0:
                self._local.reserved = True  # run() gives the memory back after the job
            with self.ledger.reserve(
                need, waiting=lambda: self._progress(job.id, 0.0), release=False
            ):
                started = time.perf_counter()  # the stage's own time, not the wait
                handler(ctx)
        except (ProcessingError, TooBigForBudget) as exc:
            if self._out_of_space(exc):
                self._defer(job.id)
                return None
            message = Message.of(exc) if isinstance(exc, ProcessingError) else exc.message
            if task:
                self._end_task(job, JobStatus.failed, time.perf_counter() - started, message)
            else:
                self._fail(job, message, time.perf_counter() - started)
        except Exception as exc:
            if self._out_of_space(exc):
                self._defer(job.id)
                return None
            # The traceback goes to the log (no personal data in it: ids only); the person
            # sees what happened and that nothing was lost.
            log.exception("job %s (stage %s, asset %s) crashed", job.id, job.stage, job.asset_id)
            message = Message(CRASHED)
            if task:
                self._end_task(job, JobStatus.failed, time.perf_counter() - started, message)
            else:
                self._fail(job, message, time.perf_counter() - started)
        else:
            if task:
                self._end_task(job, JobStatus.done, time.perf_counter() - started, None)
            else:
                return self._finish(job, time.perf_counter() - started)
        return None

    def _out_of_space(self, exc: BaseException) -> bool:
        """Whether a stage failed for want of disk space, not because of its file: said
        so by the error, or (a tool's error in its own words, ffmpeg's) the disk is at
        its minimum now. Such a job waits for space instead of failing its asset."""
        full = is_disk_full(exc) or (
            shortfall(self.blobs.tmp_dir, min_free=self.settings.min_free_bytes) is not None
        )
        if full:
            log.warning("a job ran out of disk space; it will be retried")
        return full

    def _claim(self, job_id: str) -> Job | None:
        moment = now()
        stale = moment - timedelta(seconds=self.settings.job_stale_after_s)
        me = owner.current()
        with self.session() as session:
            result = session.execute(
                update(Job)
                .where(col(Job.id) == job_id)
                .where(
                    or_(
                        col(Job.status) == JobStatus.queued,
                        (col(Job.status) == JobStatus.running) & (col(Job.heartbeat_at) < stale),
                    )
                )
                .values(
                    status=JobStatus.running,
                    started_at=moment,
                    heartbeat_at=moment,
                    progress=0.0,  # a re-run starts over (progress never goes back within one)
                    attempts=col(Job.attempts) + 1,
                    **failure_columns(None),
                    owner_host=me.host,
                    owner_boot=me.boot,
                    owner_pid=me.pid,
                    owner_started=me.started,
                )
            )
            session.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return session.get(Job, job_id)

    def _defer(self, job_id: str, attempt: int = 0) -> None:
        """Give a job that hit a full disk back to the queue after a delay.

        A timer in memory, not the queue's own delayed tasks: with the disk full, the
        queue (SQLite in the data dir) and the database may not take the write either. Until
        they do, the timer tries again; a process that dies meanwhile leaves the job
        `running` under its name, and the next process on the host takes it over.
        """
        delay = STORAGE_RETRY_S[min(attempt, len(STORAGE_RETRY_S) - 1)]

        def retry() -> None:
            try:
                with self.session() as session:
                    session.execute(
                        update(Job)
                        .where(col(Job.id) == job_id, col(Job.status) == JobStatus.running)
                        .values(
                            status=JobStatus.queued, **failure_columns(Message(WAITING_FOR_SPACE))
                        )
                    )
                    session.commit()
                self.queue.enqueue([job_id])
            except Exception as exc:
                if not is_disk_full(exc):
                    log.exception("could not re-queue job %s; the sweeper will", job_id)
                    return
                self._defer(job_id, attempt + 1)

        timer = threading.Timer(delay, retry)
        timer.daemon = True
        timer.start()

    def _progress(self, job_id: str, fraction: float) -> None:
        value = max(0.0, min(1.0, fraction))
        with self.session() as session:
            # Never backwards: reports from a stage's reader threads may commit out of
            # order under load (a late 0.74 after 0.86 was seen).
            session.execute(
                update(Job)
                .where(col(Job.id) == job_id, col(Job.progress) <= value)
                .values(progress=value, heartbeat_at=now())
            )
            session.commit()

    def _finish(self, job: Job, seconds: float) -> str | None:
        """Record the job done and schedule the asset's next stage; return that job's id
        when this worker is to run it at once (a `same_worker` stage)."""
        wiring = self.runtime.wiring
        here: str | None = None
        with self.session() as session:
            row = session.get(Job, job.id)
            asset = session.get(Asset, job.asset_id)
            if row is None or asset is None:
                return None  # the asset was deleted while we worked
            row.status, row.progress, row.finished_at = JobStatus.done, 1.0, now()
            row.duration_s = seconds
            stages = wiring.pipeline_for(AssetKind(asset.kind))
            position = stages.index(job.stage) if job.stage in stages else len(stages)
            done = position + 1 >= len(stages)
            if not done:
                following = stages[position + 1]
                # Run here: not put on the queue (should this process die first, the
                # sweeper sends it, as any job committed but never enqueued).
                at_once = following in wiring.same_worker
                follower = schedule(
                    session, asset_id=asset.id, stage=following, enqueue=not at_once
                )
                here = follower.id if at_once else None
            elif asset.status != AssetStatus.failed:
                asset.status = AssetStatus.ready
                asset.updated_at = now()
            session.commit()
        if done:
            self.runtime.publish(events.AssetProcessed(asset_id=asset.id, status=asset.status))
            self.runtime.publish(events.AssetChanged(asset_id=asset.id))
        return here

    def _end_task(self, job: Job, status: JobStatus, seconds: float, error: Message | None) -> None:
        """A task's outcome is its own: the asset and its pipeline are left as they are."""
        with self.session() as session:
            row = session.get(Job, job.id)
            if row is None:
                return  # its asset was deleted while we worked
            row.status, row.finished_at = status, now()
            record_failure(row, error)
            row.duration_s = seconds
            if status == JobStatus.done:
                row.progress = 1.0
            session.commit()

    def _fail(self, job: Job, message: Message, seconds: float) -> None:
        with self.session() as session:
            row = session.get(Job, job.id)
            asset = session.get(Asset, job.asset_id)
            if row is None or asset is None:
                return
            row.status, row.finished_at = JobStatus.failed, now()
            row.duration_s = seconds
            asset.status, asset.updated_at = AssetStatus.failed, now()
            record_failure(row, message)
            record_failure(asset, message)
            session.commit()
        self.runtime.publish(events.AssetProcessed(asset_id=asset.id, status=AssetStatus.failed))
        self.runtime.publish(events.AssetChanged(asset_id=asset.id))


def run_periodic(runtime: Runtime) -> None:
    """Each of the runtime's periodic tasks once, except those whose interval (`every`) has
    not passed since their last run in this runtime; one failing does not stop the others."""
    moment = now()
    for name, task in runtime.wiring.periodic.items():
        every, last = runtime.wiring.periodic_every.get(name), runtime.periodic_ran.get(name)
        if every is not None and last is not None and abs(moment - last) < every:
            continue
        runtime.periodic_ran[name] = moment
        try:
            task(runtime)
        except Exception:
            log.exception("periodic task %s failed", name)


def sweep(runtime: Runtime, *, lost_after_s: float | None = None) -> int:
    """Re-enqueue work that was committed but never finished; returns how many jobs.

    Queued jobs count as lost once older than `lost_after_s` (default: the sweep interval).
    """
    settings, queue = runtime.settings, runtime.queue
    moment = now()
    stale = moment - timedelta(seconds=settings.job_stale_after_s)
    lost_after = moment - timedelta(
        seconds=settings.sweep_interval_s if lost_after_s is None else lost_after_s
    )
    with runtime.unit_of_work() as session:
        conditions = [(col(Job.status) == JobStatus.running) & (col(Job.heartbeat_at) < stale)]
        # Queued jobs are only lost when the queue is empty; while it holds work they may
        # simply be waiting their turn, and re-sending them would only add duplicates.
        if queue.pending_count() == 0:
            conditions.append(
                (col(Job.status) == JobStatus.queued) & (col(Job.created_at) < lost_after)
            )
        ids = list(session.exec(select(Job.id).where(or_(*conditions))))
    if ids:
        log.info("sweeper re-enqueues %d unfinished job(s)", len(ids))
        queue.enqueue(ids)
    return len(ids)


def reclaim_orphans(runtime: Runtime) -> int:
    """Give back to the queue, at once, the running jobs of processes on this host that
    are gone (killed, crashed, rebooted); returns how many. Other hosts' jobs wait for
    their heartbeat to go stale: from here nothing can be known about those processes."""
    me = owner.current()
    with runtime.unit_of_work() as session:
        running = session.exec(
            select(Job)
            .where(col(Job.status) == JobStatus.running)
            .where(col(Job.owner_host) == me.host)
        ).all()
        claims = [(j.id, j.owner_boot, j.owner_pid, j.owner_started) for j in running]
    orphans = [
        (job_id, pid, started)
        for job_id, boot, pid, started in claims
        if pid is not None
        and owner.is_gone(
            owner.Owner(host=me.host, boot=boot or "", pid=pid, started=started or "")
        )
    ]
    taken: list[str] = []
    for job_id, pid, started in orphans:
        with runtime.unit_of_work() as session:
            # Only while it is still the dead owner's: another starting process may have won.
            result = session.execute(
                update(Job)
                .where(col(Job.id) == job_id, col(Job.status) == JobStatus.running)
                .where(col(Job.owner_host) == me.host, col(Job.owner_pid) == pid)
                .where(
                    col(Job.owner_started) == started
                    if started is not None
                    else col(Job.owner_started).is_(None)
                )
                .values(status=JobStatus.queued)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                taken.append(job_id)
    if taken:
        log.info("took over %d job(s) of ended processes on this host", len(taken))
        runtime.queue.enqueue(taken)
    return len(taken)
