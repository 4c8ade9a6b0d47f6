"""Data-subject requests started from the UI or the API: an access export (GDPR art. 15)
or an erasure (art. 17) as a job about the person, with progress, instead of one long
request (an erasure re-encodes the videos it blurs: minutes).

The work itself is gdpr.requests.export and gdpr.requests.erasure; this module schedules
it (`request_*`), runs it (the `person_export` and `person_erasure` tasks), and says where a
request is.
A finished export stays in the data dir's `exports/` folder for EXPORT_KEPT (24 hours)
and leaves only through the gate (gate.PreparedExport, audited each time); the periodic
`purge_exports` removes it after that. Job params hold ids and counts, never a name.
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from dam import audit, clock
from dam.auth import check_permission
from dam.blobs import BlobStore
from dam.errors import Conflict, Gone, InvalidInput, NotFound
from dam.jobs import StageContext, schedule
from dam.models import (
    Asset,
    AssetKind,
    Consent,
    ErasureTombstone,
    Face,
    FaceState,
    Job,
    JobStatus,
    User,
)
from gdpr.consent.withdrawal_impact import WithdrawalImpact, withdrawal_impact
from gdpr.recognition.identity import get_person
from gdpr.requests import erasure, erasure_videos, export
from gdpr.requests.export_files import EXPORT_KEPT, EXPORT_TASK, export_path, exports_dir

if TYPE_CHECKING:
    from dam.runtime import Runtime

log = logging.getLogger(__name__)

ERASURE_TASK = "person_erasure"
TASKS = (EXPORT_TASK, ERASURE_TASK)
OPEN = (JobStatus.queued, JobStatus.running)
_JOB_FILE = re.compile(r"^[A-Za-z0-9_-]{1,32}\.zip$")


@dataclass(frozen=True)
class ErasureImpact:
    """What erasing a person will touch, said on the confirmation page."""

    person_id: str
    name: str
    impact: WithdrawalImpact  # assets confirmed and suggested, publications, share links
    confirmed_videos: int  # `redact` re-encodes these (a while), then processes them again
    evidence: int  # signed forms, deleted whatever the choice


@dataclass(frozen=True)
class PersonRequest:
    """A request as the pages show it."""

    job: Job
    kind: str  # "export" or "erasure"
    tombstone: ErasureTombstone | None = None

    @property
    def expires_at(self) -> datetime | None:
        """Until when a finished export can be downloaded."""
        if self.kind != "export" or self.job.status != JobStatus.done:
            return None
        assert self.job.finished_at is not None
        return self.job.finished_at + EXPORT_KEPT

    def available(self, at: datetime) -> bool:
        expires = self.expires_at
        return expires is not None and at < expires

    @property
    def downloadable(self) -> bool:
        """A finished export whose 24 hours are not over yet."""
        return self.available(clock.now())

    @property
    def open(self) -> bool:
        return self.job.status in OPEN

    @property
    def assets(self) -> str | None:
        """An erasure's choice for the pictures the person is on: redact or delete."""
        choice = (self.job.params or {}).get("assets") if self.kind == "erasure" else None
        return str(choice) if choice else None

    @property
    def files(self) -> tuple[float, int] | None:
        """An erasure's progress in files: how many are done (a video being blurred counts
        in part) of how many; None before it counted them, or for an export."""
        total = (self.job.params or {}).get("files") if self.kind == "erasure" else None
        if not isinstance(total, int) or isinstance(total, bool):
            return None
        if self.job.status == JobStatus.done:
            return float(total), total
        return min(float(total), self.job.progress * total), total

    @property
    def files_done(self) -> int | None:
        """Files finished, whole ("3 of 8 files processed")."""
        found = self.files
        return None if found is None else math.floor(found[0] + 1e-6)

    @property
    def counts(self) -> dict[str, int]:
        found = (self.job.params or {}).get("counts") or {}
        return {k: int(v) for k, v in found.items() if isinstance(v, int)}


# --- starting ----------------------------------------------------------------------------


def request_export(session: Session, *, person_id: str, actor: User) -> Job:
    """Schedule an access export; one already under way is returned instead of a second."""
    check_permission(actor, "privacy.export")
    get_person(session, person_id)
    running = _open_job(session, person_id, EXPORT_TASK)
    if running is not None:
        return running
    job = schedule(
        session, person_id=person_id, stage=EXPORT_TASK, params={"requested_by": actor.id}
    )
    audit.record(
        session,
        action="person.export_requested",
        actor_id=actor.id,
        subject_type="person",
        subject_id=person_id,
        details={"job_id": job.id},
    )
    session.commit()
    return job


def erasure_impact(session: Session, person_id: str) -> ErasureImpact:
    person = get_person(session, person_id)
    videos = session.exec(
        select(func.count(func.distinct(Face.asset_id)))
        .join(Asset, col(Asset.id) == col(Face.asset_id))
        .where(
            Face.person_id == person_id,
            Face.state == FaceState.confirmed,
            col(Asset.kind) != AssetKind.image,
            col(Asset.is_evidence).is_(False),
        )
    ).one()
    evidence = session.exec(
        select(func.count())
        .select_from(Consent)
        .where(Consent.person_id == person_id, col(Consent.evidence_asset_id).is_not(None))
    ).one()
    return ErasureImpact(
        person_id=person.id,
        name=person.name,
        impact=withdrawal_impact(session, person_id),
        confirmed_videos=int(videos),
        evidence=int(evidence),
    )


def names_match(typed: str, name: str) -> bool:
    """The name typed to confirm an erasure: as the record has it, case and runs of
    spaces aside."""
    return " ".join(typed.split()).casefold() == " ".join(name.split()).casefold() != ""


def request_erasure(
    session: Session,
    *,
    person_id: str,
    assets: erasure.AssetsChoice,
    actor: User,
    confirm_name: str | None = None,
) -> Job:
    """Schedule an erasure (the UI, the API's DELETE and `dam privacy erase` all start it
    here); refused when one is under way already. `confirm_name`: the name the officer
    typed on the UI's confirmation page, which must match; the API and the CLI ask for
    the erasure explicitly and give none."""
    check_permission(actor, "people.erase")
    person = get_person(session, person_id)
    if confirm_name is not None and not names_match(confirm_name, person.name):
        raise InvalidInput("Type the person's name exactly to confirm.", field="confirm_name")
    if _open_job(session, person_id, ERASURE_TASK) is not None:
        raise Conflict("An erasure of this person is under way already.")
    job = schedule(
        session,
        person_id=person_id,
        stage=ERASURE_TASK,
        params={"requested_by": actor.id, "assets": assets.value},
    )
    audit.record(
        session,
        action="person.erasure_requested",
        actor_id=actor.id,
        subject_type="person",
        subject_id=person_id,
        details={"job_id": job.id, "assets": assets.value},
    )
    session.commit()
    return job


def _open_job(session: Session, person_id: str, stage: str) -> Job | None:
    return session.exec(
        select(Job)
        .where(Job.person_id == person_id, Job.stage == stage, col(Job.status).in_(OPEN))
        .order_by(col(Job.created_at).desc())
        .limit(1)
    ).first()


# --- running (tasks) ----------------------------------------------------------------------


def run_export(ctx: StageContext) -> None:
    """The `person_export` task: write the ZIP, keep it under exports/ for the download."""
    assert ctx.person_id is not None
    with ctx.session() as session:
        actor = _requester(session, ctx)
        result = export.export_person(
            session,
            person_id=ctx.person_id,
            actor=actor,
            blobs=ctx.blobs,
            progress=lambda f: ctx.report_progress(0.95 * f),
        )
    target = export_path(ctx.blobs, ctx.job_id)
    os.replace(result.path, target)
    if not _note(ctx, filename=result.filename, counts=result.counts):
        # The person was erased meanwhile (which deletes their exports' jobs): whichever
        # of the two ends last removes the file.
        target.unlink(missing_ok=True)


def run_erasure(ctx: StageContext) -> None:
    """The `person_erasure` task: gdpr.requests.erasure in one transaction (after blurring
    the photos and videos to redact, each a step of the progress, a video in part while it
    is blurred); the number of files is noted on the job first (again should it change),
    the tombstone's id at the end, for the pages that show them.

    Run again after a crash, it starts over: the erasure's transaction never committed,
    and the files it had blurred were temp files of the process that died (removed when
    the next one starts, dam.leftovers)."""
    assert ctx.person_id is not None
    choice = erasure.parse_choice(str(ctx.params.get("assets", "")))
    # The pages count the files (progress is done / files): noted before the first one.
    with ctx.session() as session:
        files = erasure.files_of(session, ctx.person_id)
    if not _note(ctx, files=files):
        return
    total = [files]

    def recount(files: int) -> None:
        if files != total[0]:
            total[0] = files
            _note(ctx, files=files)

    # Drained at its commit, as in a request: search has purged the person before the
    # job reports done (otherwise the poller may hold the rows while `done` is read).
    with ctx.session(drain=True) as session:
        actor = _requester(session, ctx)
        summary = erasure.erase_person(
            session,
            person_id=ctx.person_id,
            assets=choice,
            actor=actor,
            blobs=ctx.blobs,
            settings=ctx.settings,
            progress=lambda done: ctx.report_progress(done / max(total[0], 1)),
            recount=recount,
        )
    counts = {
        "assets_deleted": len(summary.assets_deleted),
        "assets_redacted": len(summary.assets_redacted),
        "videos_reencoded": len(summary.videos_reencoded),
        "evidence_deleted": len(summary.evidence_deleted),
        "downloads_withdrawn": len(summary.downloads_withdrawn),
        "exports_deleted": len(summary.exports_deleted),
        "faces": summary.faces,
        "embeddings": summary.embeddings,
        "crops": summary.crops,
        "consents": summary.consents,
        "rejudged": summary.rejudged,
        "texts_scrubbed": summary.texts_scrubbed,
    }
    _note(ctx, tombstone_id=summary.tombstone_id, counts=counts)


def erasure_need(ctx: StageContext) -> int:
    """The `person_erasure` task's memory (the job runner keeps to a budget): ffmpeg's
    when it blurs videos (assets=redact), nothing to speak of otherwise."""
    if ctx.person_id is None or ctx.params.get("assets") != erasure.AssetsChoice.redact:
        return 0
    with ctx.session() as session:
        need = erasure_videos.memory_need(session, ctx.person_id, ctx.runtime.wiring)
    # Never refused for size (ffmpeg has its own caps): a large video then runs alone.
    return min(need, ctx.settings.job_memory_bytes)


def _requester(session: Session, ctx: StageContext) -> User:
    user = session.get(User, str(ctx.params.get("requested_by", "")))
    if user is None or not user.is_active:
        raise InvalidInput("The colleague who asked for this no longer has an account.")
    return user


def _note(ctx: StageContext, **values: Any) -> bool:
    """Add `values` to the job's params; False when the job is gone."""
    with ctx.unit_of_work() as session:
        job = session.get(Job, ctx.job_id)
        if job is None:
            return False
        job.params = {**(job.params or {}), **values}  # a new dict: JSON columns see that
        session.add(job)
        return True


# --- reading ------------------------------------------------------------------------------


def _view(session: Session, job: Job) -> PersonRequest:
    kind = "export" if job.stage == EXPORT_TASK else "erasure"
    tombstone = None
    tombstone_id = (job.params or {}).get("tombstone_id")
    if kind == "erasure" and tombstone_id:
        tombstone = session.get(ErasureTombstone, str(tombstone_id))
    return PersonRequest(job=job, kind=kind, tombstone=tombstone)


def get_request(session: Session, job_id: str, user: User) -> PersonRequest:
    """One request, for a privacy officer; NotFound for any other job id."""
    check_permission(user, "privacy.export")
    job = session.get(Job, job_id)
    if job is None or job.stage not in TASKS:
        raise NotFound("There is no such request.")
    return _view(session, job)


def requests_of(session: Session, person_id: str, *, limit: int = 10) -> list[PersonRequest]:
    jobs = session.exec(
        select(Job)
        .where(Job.person_id == person_id, col(Job.stage).in_(TASKS))
        .order_by(col(Job.created_at).desc())
        .limit(limit)
    )
    return [_view(session, j) for j in jobs]


def recent_requests(session: Session, *, limit: int = 20) -> list[PersonRequest]:
    """The latest requests of everyone, newest first (the dashboard's progress list)."""
    jobs = session.exec(
        select(Job)
        .where(col(Job.stage).in_(TASKS), col(Job.person_id).is_not(None))
        .order_by(col(Job.created_at).desc())
        .limit(limit)
    )
    return [_view(session, j) for j in jobs]


def prepared_export(session: Session, blobs: BlobStore, job_id: str) -> tuple[Path, str, str]:
    """A finished export's file, its download name and its person's id; NotFound when
    there is none, Gone once its 24 hours are over (the file is removed then)."""
    job = session.get(Job, job_id)
    if job is None or job.stage != EXPORT_TASK or job.person_id is None:
        raise NotFound("There is no such export.")
    request = _view(session, job)
    path = export_path(blobs, job.id)
    if request.expires_at is None:
        raise NotFound("This export is not ready yet.")
    if not request.available(clock.now()) or not path.is_file():
        path.unlink(missing_ok=True)
        raise Gone("This export is no longer available; start a new one.", reason="expired")
    filename = str((job.params or {}).get("filename") or f"beeldbank-export-{job.person_id}.zip")
    return path, filename, job.person_id


def purge_exports(runtime: Runtime) -> int:
    """Remove exports older than EXPORT_KEPT and files no export job names (periodic)."""
    directory = exports_dir(runtime.blobs)
    files = {p.stem: p for p in directory.iterdir() if _JOB_FILE.match(p.name)}
    if not files:
        return 0
    limit = clock.now() - EXPORT_KEPT
    with runtime.unit_of_work() as session:
        keep = set(
            session.exec(
                select(Job.id).where(
                    col(Job.id).in_(list(files)),
                    Job.stage == EXPORT_TASK,
                    or_(
                        col(Job.status).in_(OPEN),  # just written, not marked done yet
                        (col(Job.status) == JobStatus.done) & (col(Job.finished_at) > limit),
                    ),
                )
            )
        )
    removed = 0
    for stem, path in files.items():
        if stem not in keep:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("removed %d expired access export(s)", removed)
    return removed
