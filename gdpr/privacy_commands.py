"""`dam privacy export` and `dam privacy erase`: data-subject requests from the shell,
carried out (and audited) in a privacy officer's name."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from sqlmodel import Session

from dam import auth
from dam.cli import console, fail, runtime
from dam.errors import DomainError
from dam.models import User
from dam.wiring import Wiring
from gdpr.requests import erasure, export

privacy_app = typer.Typer(help="Access and erasure requests (GDPR art. 15 and 17).")

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
    with runtime() as rt, rt.session() as session:
        try:
            officer = _officer(session, by, "people.erase")
            summary = erasure.erase_person(
                session,
                person_id=person_id,
                assets=choice,
                actor=officer,
                blobs=rt.blobs,
                settings=rt.settings,
            )
        except DomainError as exc:
            raise fail(str(exc)) from None
    done = (
        summary.assets_deleted if choice == erasure.AssetsChoice.delete else summary.assets_redacted
    )
    reencoded = len(summary.videos_reencoded)
    videos = f" ({_count(reencoded, 'video')} re-encoded, processed again)" if reencoded else ""
    console.print(
        f"Erased person {person_id} (tombstone {summary.tombstone_id}): "
        f"{_count(len(done), 'picture')} "
        f"{'deleted' if choice == erasure.AssetsChoice.delete else 'redacted'}{videos}, "
        f"{_count(summary.faces, 'face')}, {_count(summary.embeddings, 'embedding')}, "
        f"{_count(summary.consents, 'consent')} made anonymous."
    )


def _count(n: int, noun: str) -> str:
    """'1 picture', '2 pictures' (the CLI speaks English; these nouns take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
