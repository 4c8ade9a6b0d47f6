"""The objects one Beeldbank process shares: settings, database, blobs, queue, job runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dam import change_hooks, jobs, leftovers  # noqa: F401  (change_hooks: installs the feed's hooks)
from dam.blobs import BlobStore
from dam.changes import FEED_KEY, ChangeFeed, build_steps
from dam.db import make_engine
from dam.plugins import load_plugins
from dam.queue import JobQueue
from dam.settings import Settings


class RuntimeService(Protocol):
    def close(self) -> None: ...


ServiceFactory = Callable[["Runtime"], RuntimeService]
_service_factories: dict[str, ServiceFactory] = {}


def register_service(name: str, factory: ServiceFactory) -> None:
    """Give every runtime a `name` service, built with it and closed with it (plugins'
    per-process machinery such as the search index sync). Factories must not do I/O:
    the runtime is built before migrations run."""
    _service_factories[name] = factory


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    queue: JobQueue = field(init=False)
    runner: jobs.JobRunner = field(init=False)
    services: dict[str, Any] = field(init=False)
    changes: ChangeFeed = field(init=False)

    def __post_init__(self) -> None:
        self.queue = JobQueue(
            self.settings, run_job=self._run_job, sweep=self._sweep, recover=self.recover
        )
        self.runner = jobs.JobRunner(
            settings=self.settings, engine=self.engine, blobs=self.blobs, queue=self.queue
        )
        self.services = {name: make(self) for name, make in _service_factories.items()}
        # After the services: the search step writes through the search service's sync.
        # The inline test queue runs no threads: nothing drains behind a test's back.
        self.changes = ChangeFeed(self.engine, build_steps(self), poll=not self.queue.immediate)

    def _run_job(self, job_id: str) -> None:
        self.runner.run(job_id)
        # A stage commits through sessions of its own: drain what it recorded.
        self.changes.kick()

    def _sweep(self) -> int:
        jobs.run_periodic(self.engine, self.settings)
        # A sibling process on this host (another `dam worker`) may have died meanwhile.
        taken = jobs.reclaim_orphans(engine=self.engine, queue=self.queue)
        leftovers.clean(self.settings, self.engine)
        # Rows a crash, a periodic task or another process left on the change feed.
        self.changes.drain()
        return taken + jobs.sweep(engine=self.engine, settings=self.settings, queue=self.queue)

    def recover(self) -> None:
        """At start: take over the jobs of this host's ended processes, remove their temp
        files, and re-send queued jobs that never reached the queue (a crash between
        commit and enqueue), without waiting for the stale timeout or the first sweep."""
        jobs.reclaim_orphans(engine=self.engine, queue=self.queue)
        leftovers.clean(self.settings, self.engine)
        jobs.sweep(engine=self.engine, settings=self.settings, queue=self.queue, lost_after_s=0)

    def session(self) -> Session:
        """A session whose committed jobs go onto this runtime's queue and whose recorded
        changes this runtime's change feed drains."""
        session = Session(self.engine, expire_on_commit=False)
        session.info["queue"] = self.queue
        session.info[FEED_KEY] = self.changes
        return session

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session that commits at the end (rolls back on error)."""
        with self.session() as session:
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


def build_runtime(settings: Settings) -> Runtime:
    """Everything a process needs, with the built-in plugins registered."""
    load_plugins()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Runtime(
        settings=settings,
        engine=make_engine(settings.resolved_database_url),
        blobs=BlobStore(settings.data_dir),
    )
