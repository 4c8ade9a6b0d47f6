"""Progress, heartbeat and cancellation for a running video stage.

Deleting an asset deletes its jobs; a stage that finds its job row gone (or cancelled)
stops its ffmpeg and leaves nothing behind. Reporting progress is also the job's
heartbeat, so a long transcode is never mistaken for a stale one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import col, select

from dam.errors import ProcessingError
from dam.jobs import StageContext
from dam.models import Job, JobStatus
from ingest.video.progress import fraction


class Cancelled(ProcessingError):
    """The asset was deleted (or its job cancelled) while the stage ran."""


class JobGuard:
    def __init__(self, ctx: StageContext) -> None:
        self.ctx = ctx

    def check(self) -> None:
        """Raise Cancelled when the job is gone or cancelled."""
        with self.ctx.session() as session:
            status = session.exec(select(Job.status).where(col(Job.id) == self.ctx.job_id)).first()
        if status is None or status == JobStatus.cancelled:
            raise Cancelled("Processing stopped: the asset was deleted.")

    def progress(self, done: float) -> None:
        """Report `done` (0..1) and check for cancellation."""
        self.ctx.report_progress(done)
        self.check()

    def span(
        self, start: float, end: float, duration_s: float | None
    ) -> Callable[[float | None], None]:
        """A tick for `ingest.video.process.Run`: output seconds mapped into start..end."""

        def tick(seconds: float | None) -> None:
            part = fraction(seconds, duration_s) or 0.0
            self.progress(start + (end - start) * part)

        return tick
