"""`dam privacy export` and `dam privacy erase`: data-subject requests from the shell,
carried out (and audited) in a privacy officer's name."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import typer
from sqlmodel import Session

from dam import auth
from dam.cli import console, fail, runtime
from dam.errors import DomainError
from dam.models import Job, JobStatus, User
from dam.runtime import Runtime
from dam.wiring import Wiring
from gdpr.requests import erasure, export, person_requests

privacy_app = typer.Typer(help="Access and erasure requests (GDPR art. 15 and 17).")

WAIT_S = 0.5  # between looks at an erasure another process carries out
BY = typer.Option(..., "--by", help="E-mail of the privacy officer carrying it out (audited).")


def register(wiring: Wiring) -> None:
    wiring.add_command_group("privacy", privacy_app)


def _officer(session: Session, email: str, permission: str) -> User:
    user = auth.get_user_by_email(session, email)
    auth.check_permission(user, permission)
    return user


@privacy_app.command("export")
def export_command(
    person_id: str = typer.Argument(..., help="The person's id."),
    out: Path = typer.Option(..., "--out", help="Where to write the ZIP."),
    by: str = BY,
) -> None:
    """Write everything held about a person to a ZIP (access request)."""
    if out.exists():
        raise fail(f"{out} exists already; choose another file name.")
    with runtime() as rt, rt.session() as session:
        try:
            officer = _officer(session, by, "privacy.export")
            result = export.export_person(
                session, person_id=person_id, actor=officer, blobs=rt.blobs
            )
        except DomainError as exc:
            raise fail(str(exc)) from None
        try:
            shutil.move(result.path, out)
        finally:
            result.path.unlink(missing_ok=True)
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.counts.items())
    console.print(f"Exported to {out}: {counts}.")


@privacy_app.command("erase")
def erase_command(
    person_id: str = typer.Argument(..., help="The person's id."),
    assets: str = typer.Option(..., "--assets", help="redact or delete their pictures."),
    by: str = BY,
    yes: bool = typer.Option(False, "--yes", help="Erase without asking (cannot be undone)."),
) -> None:
    """Erase a person: their record, biometric data and crops; their pictures redacted or
    deleted; a tombstone without their name stays."""
    try:
        choice = erasure.parse_choice(assets)
    except DomainError as exc:
        raise fail(str(exc), code=2) from None
    if not yes:
        typer.confirm(
            f"Erase person {person_id} and {choice.value} their pictures? This cannot be undone",
            abort=True,
        )
    with runtime() as rt:
        with rt.session() as session:
            try:
                officer = _officer(session, by, "people.erase")
                # The one way an erasure starts (as from the UI and the API): a job, audited
                # as requested; refused while one of the same person is under way.
                job_id = person_requests.request_erasure(
                    session, person_id=person_id, assets=choice, actor=officer
                ).id
            except DomainError as exc:
                raise fail(str(exc)) from None
        job = _run_here(rt, job_id)
    if job.status != JobStatus.done:
        raise fail(job.error or "The erasure could not be carried out; nothing was erased.")
    counts = {k: int(v) for k, v in (job.params or {}).get("counts", {}).items()}
    deleted = choice == erasure.AssetsChoice.delete
    done = counts.get("assets_deleted" if deleted else "assets_redacted", 0)
    reencoded = counts.get("videos_reencoded", 0)
    videos = f" ({_count(reencoded, 'video')} re-encoded, processed again)" if reencoded else ""
    copies = counts.get("downloads_withdrawn", 0) + counts.get("exports_deleted", 0)
    removed = f" {_count(copies, 'prepared ZIP')} removed." if copies else ""
    console.print(
        f"Erased person {person_id} (tombstone {(job.params or {}).get('tombstone_id')}): "
        f"{_count(done, 'picture')} {'deleted' if deleted else 'redacted'}{videos}, "
        f"{_count(counts.get('faces', 0), 'face')}, "
        f"{_count(counts.get('embeddings', 0), 'embedding')}, "
        f"{_count(counts.get('consents', 0), 'consent')} made anonymous.{removed}"
    )


def _run_here(rt: Runtime, job_id: str) -> Job:
    """Run the job in this process, or wait for the worker that claimed it first; the job
    as it ended."""
    while True:
        rt.runner.run(job_id)  # nothing when another process holds it (and is alive)
        rt.changes.kick()  # search has forgotten the person before we say it is done
        with rt.session() as session:
            job = session.get(Job, job_id)
            assert job is not None
            if job.status not in (JobStatus.queued, JobStatus.running):
                session.expunge(job)
                return job
        time.sleep(WAIT_S)


def _count(n: int, noun: str) -> str:
    """'1 picture', '2 pictures' (the CLI speaks English; these nouns take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
