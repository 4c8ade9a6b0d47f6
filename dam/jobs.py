"""Pipeline jobs: scheduling, the idempotent runner and the sweeper.

The database is the source of truth; the queue only carries job ids. A job is
claimed with one conditional UPDATE, so a job id delivered twice runs once.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import event, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dam import changes, events
from dam.blobs import BlobStore
from dam.clock import now
from dam.db import session_scope
from dam.errors import ProcessingError
from dam.models import Asset, AssetKind, AssetStatus, Job, JobStatus
from dam.settings import Settings

log = logging.getLogger(__name__)


class Enqueuer(Protocol):
    def enqueue(self, job_ids: Iterable[str]) -> None: ...

    def pending_count(self) -> int: ...


@dataclass
class StageContext:
    """What a stage handler gets: the job, and the means to do its work."""

    job_id: str
    asset_id: str
    settings: Settings
    engine: Engine
    blobs: BlobStore
    report_progress: Callable[[float], None]


StageHandler = Callable[[StageContext], None]

PeriodicTask = Callable[[Engine, Settings], object]

_stages: dict[str, StageHandler] = {}
_pipelines: dict[AssetKind, list[str]] = {}
_periodic: dict[str, PeriodicTask] = {}
_insertions: defaultdict[AssetKind, list[tuple[str, str]]] = defaultdict(list)


def register_stage(name: str, handler: StageHandler) -> None:
    _stages[name] = handler


def register_pipeline(kind: AssetKind, stages: list[str]) -> None:
    """The ordered stages an asset of `kind` goes through after it is stored."""
    _pipelines[kind] = list(stages)


def register_periodic(name: str, task: PeriodicTask) -> None:
    """Run `task` on every sweep (expiring uploads, later: verdict deadlines, retention)."""
    _periodic[name] = task


def run_periodic(engine: Engine, settings: Settings) -> None:
    for name, task in _periodic.items():
        try:
            task(engine, settings)
        except Exception:
            log.exception("periodic task %s failed", name)


def add_stage_after(kind: AssetKind, after: str, stage: str) -> None:
    """Run `stage` right after `after` in `kind`'s pipeline (a plugin extending another's).

    Remembered apart from the pipeline, so the order in which plugins load does not matter.
    """
    if (after, stage) not in _insertions[kind]:
        _insertions[kind].append((after, stage))


def pipeline_for(kind: AssetKind) -> list[str]:
    stages = list(_pipelines.get(kind, []))
    for after, stage in _insertions[kind]:
        if after in stages and stage not in stages:
            stages.insert(stages.index(after) + 1, stage)
    return stages


def schedule(session: Session, *, asset_id: str, stage: str) -> Job:
    """Add a job; its id is put on the queue once the session commits."""
    job = Job(asset_id=asset_id, stage=stage)
    session.add(job)
    session.info.setdefault("jobs_to_enqueue", []).append(job.id)
    return job


def start_pipeline(session: Session, asset: Asset) -> Job | None:
    """Schedule the first stage of the asset's pipeline (None if its kind has none)."""
    stages = pipeline_for(AssetKind(asset.kind))
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
    # Last: with an inline queue the jobs above have run, and one drain covers them all.
    changes.after_commit(session)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("jobs_to_enqueue", None)
    events.drop_pending(session)
    changes.after_rollback(session)


class JobRunner:
    """Runs one job by id: claim, run the stage, record the outcome, schedule the next."""

    def __init__(
        self, *, settings: Settings, engine: Engine, blobs: BlobStore, queue: Enqueuer
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.blobs = blobs
        self.queue = queue

    def session(self) -> Session:
        session = Session(self.engine, expire_on_commit=False)
        session.info["queue"] = self.queue
        return session

    def run(self, job_id: str) -> None:
        job = self._claim(job_id)
        if job is None:
            return
        handler = _stages.get(job.stage)
        started = time.perf_counter()
        ctx = StageContext(
            job_id=job.id,
            asset_id=job.asset_id,
            settings=self.settings,
            engine=self.engine,
            blobs=self.blobs,
            report_progress=lambda fraction: self._progress(job.id, fraction),
        )
        try:
            if handler is None:
                raise RuntimeError(f"no handler registered for stage {job.stage!r}")
            handler(ctx)
        except ProcessingError as exc:
            self._fail(job, exc.message, time.perf_counter() - started)
        except Exception as exc:
            # The traceback goes to the log (no personal data in it: ids only); the person
            # sees what happened and that nothing was lost.
            log.exception("job %s (stage %s, asset %s) crashed", job.id, job.stage, job.asset_id)
            message = (
                f"Processing stopped with an unexpected error in the {job.stage} stage "
                f"({type(exc).__name__}). The original is kept; an administrator can retry."
            )
            self._fail(job, message, time.perf_counter() - started)
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
            stages = pipeline_for(AssetKind(asset.kind))
            position = stages.index(job.stage) if job.stage in stages else len(stages)
            done = position + 1 >= len(stages)
            if not done:
                schedule(session, asset_id=asset.id, stage=stages[position + 1])
            elif asset.status != AssetStatus.failed:
                asset.status = AssetStatus.ready
                asset.updated_at = now()
            session.commit()
        if done:
            events.publish(events.AssetProcessed(asset_id=asset.id, status=asset.status))
            events.publish(events.AssetChanged(asset_id=asset.id))

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
        events.publish(events.AssetProcessed(asset_id=asset.id, status=AssetStatus.failed))
        events.publish(events.AssetChanged(asset_id=asset.id))


def sweep(*, engine: Engine, settings: Settings, queue: Enqueuer) -> int:
    """Re-enqueue work that was committed but never finished; returns how many jobs."""
    moment = now()
    stale = moment - timedelta(seconds=settings.job_stale_after_s)
    lost_after = moment - timedelta(seconds=settings.sweep_interval_s)
    with session_scope(engine) as session:
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
