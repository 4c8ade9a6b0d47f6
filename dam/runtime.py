"""The objects one Beeldbank process shares: settings, database, blobs, queue, job runner,
and the wiring that says what runs (dam/wiring.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dam import change_hooks, jobs, leftovers  # noqa: F401  (change_hooks: installs the feed's hooks)
from dam.blobs import BlobStore
from dam.changes import FEED_KEY, ChangeFeed
from dam.db import make_engine
from dam.events import Event
from dam.plugins import builtin_wiring
from dam.queue import JobQueue
from dam.settings import Settings
from dam.wiring import RuntimeService, Wiring

log = logging.getLogger(__name__)

__all__ = ["Runtime", "RuntimeService", "build_runtime"]


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    wiring: Wiring = field(default_factory=Wiring)
    queue: JobQueue = field(init=False)
    runner: jobs.JobRunner = field(init=False)
    services: dict[str, Any] = field(init=False)
    changes: ChangeFeed = field(init=False)
    # When each periodic task with an interval last ran here (jobs.run_periodic).
    periodic_ran: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.queue = JobQueue(
            self.settings, run_job=self._run_job, sweep=self._sweep, recover=self.recover
        )
        self.runner = jobs.JobRunner(self)
        self.services = {name: make(self) for name, make in self.wiring.services.items()}
        # After the services: the search step writes through the search service's sync.
        # The inline test queue runs no threads: nothing drains behind a test's back.
        self.changes = ChangeFeed(self, self.wiring.build_change_steps(self))

    def _run_job(self, job_id: str) -> None:
        self.runner.run(job_id)
        # A stage commits through sessions of its own: drain what it recorded.
        self.changes.kick()

    def _sweep(self) -> int:
        self.run_periodic()
        # A sibling process on this host (another `dam worker`) may have died meanwhile.
        taken = jobs.reclaim_orphans(self)
        leftovers.clean(self.settings, self.session)
        # Rows a crash, a periodic task or another process left on the change feed.
        self.changes.drain()
        self.changes.warn_if_behind()
        return taken + jobs.sweep(self)

    def run_periodic(self) -> None:
        """This runtime's periodic tasks, once each (the sweeper calls it)."""
        jobs.run_periodic(self)

    def recover(self) -> None:
        """At start: take over the jobs of this host's ended processes, remove their temp
        files, and re-send queued jobs that never reached the queue (a crash between
        commit and enqueue), without waiting for the stale timeout or the first sweep."""
        jobs.reclaim_orphans(self)
        leftovers.clean(self.settings, self.session)
        jobs.sweep(self, lost_after_s=0)

    def publish(self, event: Event) -> None:
        """Deliver `event` to this runtime's subscribers; one failing does not stop the
        others. (Committed work publishes through events.publish_after_commit.)"""
        for handler in list(self.wiring.subscribers.get(type(event), ())):
            try:
                handler(self, event)
            except Exception:
                log.exception("subscriber %s failed on %s", handler, type(event).__name__)

    def session(self, *, engine: Engine | None = None, drain: bool = True) -> Session:
        """A session that knows this runtime: its committed jobs go onto this runtime's
        queue, its events to this runtime's subscribers, and its recorded changes to this
        runtime's change feed, drained after its commit unless `drain` is False (a job's
        sessions: the runtime drains once after the job). Prefer unit_of_work().
        (`engine`: the same database under other execution options, the feed's
        REPEATABLE READ drains.)"""
        session = Session(engine or self.engine, expire_on_commit=False)
        session.info["runtime"] = self
        session.info["queue"] = self.queue
        if drain:
            session.info[FEED_KEY] = self.changes
        return session

    @contextmanager
    def unit_of_work(self, *, drain: bool = True) -> Iterator[Session]:
        """The way to open a session: commits at the end (rolls back on error), then its
        events are published, its jobs enqueued and (unless `drain` is False) its
        recorded changes drained."""
        with self.session(drain=drain) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.queue.stop_consumer()
        self.changes.close()  # its last drain still writes through the services
        # After the consumers (their last jobs may still hand work to a service), before
        # the engine (a service may flush to the database on the way out).
        for service in reversed(list(self.services.values())):
            service.close()
        self.engine.dispose()


def build_runtime(settings: Settings, wiring: Wiring | None = None) -> Runtime:
    """Everything a process needs, wired by the built-in plugins unless `wiring` is given."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Runtime(
        settings=settings,
        engine=make_engine(settings.resolved_database_url),
        blobs=BlobStore(settings.data_dir),
        wiring=wiring if wiring is not None else builtin_wiring(),
    )
