"""Pipeline jobs: scheduling, the idempotent runner and the sweeper.

The database is the source of truth; the queue only carries job ids. A job is
claimed with one conditional UPDATE, so a job id delivered twice runs once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dam import events
from dam.blobs import BlobStore
from dam.clock import now
from dam.errors import ProcessingError
from dam.models import Asset, AssetKind, AssetStatus, Job, JobStatus
from dam.settings import Settings
from dam.wiring import runtime_of

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
    asset_id: str
    runtime: Runtime
    report_progress: Callable[[float], None]
    # The runtime's settings, unless a caller (a test) runs the stage with others.
    settings: Settings = None  # type: ignore[assignment]
    params: dict[str, Any] = field(default_factory=dict)  # a task's Job.params

    def __post_init__(self) -> None:
        if self.settings is None:
            self.settings = self.runtime.settings

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def blobs(self) -> BlobStore:
        return self.runtime.blobs

    def session(self) -> Session:
        return self.runtime.session()

    def unit_of_work(self) -> AbstractContextManager[Session]:
        return self.runtime.unit_of_work()


def schedule(
    session: Session, *, asset_id: str, stage: str, params: dict[str, Any] | None = None
) -> Job:
    """Add a job; its id is put on the queue once the session commits."""
    job = Job(asset_id=asset_id, stage=stage, params=params)
    session.add(job)
    session.info.setdefault("jobs_to_enqueue", []).append(job.id)
    return job


def start_pipeline(session: Session, asset: Asset) -> Job | None:
    """Schedule the first stage of the asset's pipeline (None if its kind has none)."""
    stages = runtime_of(session).wiring.pipeline_for(AssetKind(asset.kind))
    if not stages:
        return None
    asset.status = AssetStatus.processing
    asset.error = None
    return schedule(session, asset_id=asset.id, stage=stages[0])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Events first: subscribers hear "stored" before an inline queue (tests) has already
    # run the whole pipeline and announced "processed".
    events.publish_pending(session)
    job_ids = session.info.pop("jobs_to_enqueue", None)
    queue: Enqueuer | None = session.info.get("queue")
    if job_ids and queue is not None:
        queue.enqueue(job_ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("jobs_to_enqueue", None)
    events.drop_pending(session)


class JobRunner:
    """Runs one job by id: claim, run the stage, record the outcome, schedule the next."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings

    def session(self) -> Session:
        return self.runtime.session()

    def run(self, job_id: str) -> None:
        job = self._claim(job_id)
        if job is None:
            return
        wiring = self.runtime.wiring
        task = job.stage in wiring.tasks
        handler = wiring.tasks.get(job.stage) if task else wiring.stages.get(job.stage)
        started = time.perf_counter()
        ctx = StageContext(
            job_id=job.id,
            asset_id=job.asset_id,
            runtime=self.runtime,
            report_progress=lambda fraction: self._progress(job.id, fraction),
            params=dict(job.params or {}),
        )
        try:
            if handler is None:
                raise RuntimeError(f"no handler registered for stage {job.stage!r}")
            handler(ctx)
        except ProcessingError as exc:
            if task:
                self._end_task(job, JobStatus.failed, time.perf_counter() - started, exc.message)
            else:
                self._fail(job, exc.message, time.perf_counter() - started)
        except Exception as exc:
            # The traceback goes to the log (no personal data in it: ids only); the person
            # sees what happened and that nothing was lost.
            log.exception("job %s (stage %s, asset %s) crashed", job.id, job.stage, job.asset_id)
            message = (
                f"Processing stopped with an unexpected error in the {job.stage} stage "
                f"({type(exc).__name__}). The original is kept; an administrator can retry."
            )
            if task:
                self._end_task(job, JobStatus.failed, time.perf_counter() - started, message)
            else:
                self._fail(job, message, time.perf_counter() - started)
        else:
            if task:
                self._end_task(job, JobStatus.done, time.perf_counter() - started, None)
            else:
                self._finish(job, time.perf_counter() - started)

    def _claim(self, job_id: str) -> Job | None:
        moment = now()
        stale = moment - timedelta(seconds=self.settings.job_stale_after_s)
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
                )
            )
            session.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return session.get(Job, job_id)

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

    def _finish(self, job: Job, seconds: float) -> None:
        with self.session() as session:
            row = session.get(Job, job.id)
            asset = session.get(Asset, job.asset_id)
            if row is None or asset is None:
                return  # the asset was deleted while we worked
            row.status, row.progress, row.finished_at = JobStatus.done, 1.0, now()
            row.duration_s = seconds
            stages = self.runtime.wiring.pipeline_for(AssetKind(asset.kind))
            position = stages.index(job.stage) if job.stage in stages else len(stages)
            done = position + 1 >= len(stages)
            if not done:
                schedule(session, asset_id=asset.id, stage=stages[position + 1])
            elif asset.status != AssetStatus.failed:
                asset.status = AssetStatus.ready
                asset.updated_at = now()
            session.commit()
        if done:
            self.runtime.publish(events.AssetProcessed(asset_id=asset.id, status=asset.status))
            self.runtime.publish(events.AssetChanged(asset_id=asset.id))

    def _end_task(self, job: Job, status: JobStatus, seconds: float, error: str | None) -> None:
        """A task's outcome is its own: the asset and its pipeline are left as they are."""
        with self.session() as session:
            row = session.get(Job, job.id)
            if row is None:
                return  # the asset was deleted while we worked
            row.status, row.error, row.finished_at = status, error, now()
            row.duration_s = seconds
            if status == JobStatus.done:
                row.progress = 1.0
            session.commit()

    def _fail(self, job: Job, message: str, seconds: float) -> None:
        with self.session() as session:
            row = session.get(Job, job.id)
            asset = session.get(Asset, job.asset_id)
            if row is None or asset is None:
                return
            row.status, row.error, row.finished_at = JobStatus.failed, message, now()
            row.duration_s = seconds
            asset.status, asset.error, asset.updated_at = AssetStatus.failed, message, now()
            session.commit()
        self.runtime.publish(events.AssetProcessed(asset_id=asset.id, status=AssetStatus.failed))
        self.runtime.publish(events.AssetChanged(asset_id=asset.id))


def run_periodic(runtime: Runtime) -> None:
    """Each of the runtime's periodic tasks once; one failing does not stop the others."""
    for name, task in runtime.wiring.periodic.items():
        try:
            task(runtime)
        except Exception:
            log.exception("periodic task %s failed", name)


def sweep(runtime: Runtime) -> int:
    """Re-enqueue work that was committed but never finished; returns how many jobs."""
    settings, queue = runtime.settings, runtime.queue
    moment = now()
    stale = moment - timedelta(seconds=settings.job_stale_after_s)
    lost_after = moment - timedelta(seconds=settings.sweep_interval_s)
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
