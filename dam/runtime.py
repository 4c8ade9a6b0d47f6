"""The objects one Beeldbank process shares: settings, database, blobs, queue, job runner,
and the wiring that says what runs (dam/wiring.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dam import jobs
from dam.blobs import BlobStore
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

    def __post_init__(self) -> None:
        self.queue = JobQueue(self.settings, run_job=self._run_job, sweep=self._sweep)
        self.runner = jobs.JobRunner(self)
        self.services = {name: make(self) for name, make in self.wiring.services.items()}

    def _run_job(self, job_id: str) -> None:
        self.runner.run(job_id)

    def _sweep(self) -> int:
        self.run_periodic()
        return jobs.sweep(self)

    def run_periodic(self) -> None:
        """This runtime's periodic tasks, once each (the sweeper calls it)."""
        jobs.run_periodic(self)

    def publish(self, event: Event) -> None:
        """Deliver `event` to this runtime's subscribers; one failing does not stop the
        others. (Committed work publishes through events.publish_after_commit.)"""
        for handler in list(self.wiring.subscribers.get(type(event), ())):
            try:
                handler(self, event)
            except Exception:
                log.exception("subscriber %s failed on %s", handler, type(event).__name__)

    def session(self) -> Session:
        """A session that knows this runtime: its committed jobs go onto this runtime's
        queue and its events to this runtime's subscribers. Prefer unit_of_work()."""
        session = Session(self.engine, expire_on_commit=False)
        session.info["runtime"] = self
        session.info["queue"] = self.queue
        return session

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """The way to open a session: commits at the end (rolls back on error), then its
        events are published and its jobs enqueued."""
        with self.session() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.queue.stop_consumer()
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
