"""Figures about the whole library for monitoring (/metrics): read from the database, so
they are the same whichever process is asked and cover every worker machine. Only
counts, stages, statuses and channels: nothing that names a person or a file."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, case, func, select
from sqlalchemy.engine import Connection

from dam.clock import now
from dam.models import Asset, AssetVerdict, Job, JobStatus, VerdictSet

# Upper bounds of the job duration histogram, in seconds.
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
FINISHED = (JobStatus.done, JobStatus.failed, JobStatus.cancelled)


@dataclass
class JobFigures:
    stage: str
    outcome: str
    count: int
    seconds: float
    buckets: list[int]  # cumulative counts at or below each of JOB_BUCKETS


@dataclass
class LibraryFigures:
    assets: dict[str, int] = field(default_factory=dict)  # status -> count
    verdicts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, status)
    jobs: list[JobFigures] = field(default_factory=list)
    jobs_waiting: dict[str, int] = field(default_factory=dict)  # queued/running -> count
    oldest_waiting_s: float = 0.0


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def gather(conn: Connection, at: datetime | None = None) -> LibraryFigures:
    """Every figure, in a handful of grouped queries."""
    at = at or now()
    figures = LibraryFigures()
    asset, job = _table(Asset), _table(Job)
    verdict_set, asset_verdict = _table(VerdictSet), _table(AssetVerdict)

    for value, count in conn.execute(select(asset.c.status, func.count()).group_by(asset.c.status)):
        figures.assets[str(value)] = int(count)

    per_set = {
        set_id: int(count)
        for set_id, count in conn.execute(
            select(asset_verdict.c.verdict_id, func.count()).group_by(asset_verdict.c.verdict_id)
        )
    }
    if per_set:
        for set_id, channels in conn.execute(select(verdict_set.c.id, verdict_set.c.channels)):
            assets = per_set.get(set_id, 0)
            for channel, verdict in (channels or {}).items() if assets else ():
                figures.verdicts[(str(channel), str(verdict.get("status", "")))] += assets

    duration = job.c.duration_s
    buckets = [func.sum(case((duration <= bound, 1), else_=0)) for bound in JOB_BUCKETS]
    finished = (
        select(job.c.stage, job.c.status, func.count(), func.sum(duration), *buckets)
        .where(job.c.status.in_([s.value for s in FINISHED]))
        .group_by(job.c.stage, job.c.status)
    )
    for stage, outcome, count, seconds, *counts in conn.execute(finished):
        figures.jobs.append(
            JobFigures(
                str(stage), str(outcome), int(count), float(seconds or 0.0),
                [int(c or 0) for c in counts],
            )
        )  # fmt: skip

    waiting = (
        select(job.c.status, func.count(), func.min(job.c.created_at))
        .where(job.c.status.in_([JobStatus.queued.value, JobStatus.running.value]))
        .group_by(job.c.status)
    )
    for value, count, oldest in conn.execute(waiting):
        figures.jobs_waiting[str(value)] = int(count)
        if value == JobStatus.queued.value and oldest is not None:
            figures.oldest_waiting_s = max(0.0, (at - oldest).total_seconds())
    for value in (JobStatus.queued.value, JobStatus.running.value):
        figures.jobs_waiting.setdefault(value, 0)
    return figures


def free_bytes(path: Path) -> int:
    """Free space where the data dir lives."""
    return shutil.disk_usage(path).free
