"""The Huey adapter: a SQLite queue in the data dir, Redis at scale, inline for tests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from dam.memory import reuse_freed_memory
from dam.settings import Settings

log = logging.getLogger(__name__)
MAX_POLL_DELAY_S = 1.0  # the longest an idle worker waits before it looks at the queue again


class JobQueue:
    """Carries job ids to consumers; the job runner does the rest."""

    def __init__(
        self,
        settings: Settings,
        run_job: Callable[[str], None],
        sweep: Callable[[], int],
        recover: Callable[[], None] = lambda: None,
    ) -> None:
        self.huey = make_huey(settings)
        self._consumer: Consumer | None = None
        self._recover = recover

        @self.huey.task(name="run_job")
        def run_job_task(job_id: str) -> None:
            run_job(job_id)

        @self.huey.task(name="sweep")
        def sweep_task() -> None:
            sweep()

        self._run_job_task = run_job_task
        self._sweep_task = sweep_task
        self._sweep_interval = settings.sweep_interval_s

    @property
    def immediate(self) -> bool:
        return bool(self.huey.immediate)

    def enqueue(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            self._run_job_task(job_id)

    def pending_count(self) -> int:
        return int(self.huey.pending_count())

    def ping(self) -> None:
        """Raise when the queue's storage does not answer."""
        self.huey.pending_count()

    def start_consumer(self, workers: int) -> None:
        """Start worker threads and the sweeper schedule inside this process.

        First, whether or not it consumes, the process takes over what processes of its
        host left behind when they died (their jobs, their temp files).
        """
        if self.immediate or self._consumer is not None:
            return
        try:
            self._recover()
        except Exception:
            log.exception("recovering after ended processes failed; the sweeper will")
        if workers <= 0:
            return
        reuse_freed_memory()  # one photo's buffers serve the next (dam/memory.py)
        # An idle worker looks at the queue again after a pause that grows by 15 % per empty
        # look, up to MAX_POLL_DELAY_S (huey's default is 10 s: a photo uploaded after a
        # quiet minute waited up to 10 s before any work on it began; Redis pops blocking).
        self._consumer = self.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=False,
            check_worker_health=True,
            max_delay=MAX_POLL_DELAY_S,
        )
        # Consumer.start() ends by installing huey's SIGINT/SIGTERM/SIGHUP handlers, which
        # only record the signal for Consumer.run(), a loop we never call: they would swallow
        # Ctrl+C and SIGTERM of the host process, and signal.signal() raises off the main
        # thread. The host process (uvicorn, `dam worker`) owns the signals.
        self._consumer._set_signal_handlers = lambda: None
        self._consumer.start()

        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="sweeper", daemon=True)
        self._sweeper.start()

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self._sweep_interval):
            try:
                self._sweep_task()
            except Exception:
                # A queue that is briefly unreachable must not end the sweeper for good.
                log.exception("could not enqueue the sweep; trying again next interval")

    def stop_consumer(self) -> None:
        if self._consumer is not None:
            self._stop.set()
            self._consumer.stop(graceful=True)
            self._consumer = None


def make_huey(settings: Settings) -> Huey:
    url = settings.queue_url
    if url and url.startswith("immediate://"):
        return MemoryHuey("beeldbank", immediate=True)
    if url:
        return RedisHuey("beeldbank", url=url, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # results=False: nobody reads task results (the database holds every outcome), and
    # huey would otherwise keep the error result of every task that raised, forever.
    return SqliteHuey("beeldbank", filename=str(settings.data_dir / "queue.db"), results=False)
