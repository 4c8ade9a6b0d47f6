"""`dam import` and `dam demo`."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from sqlmodel import Session, col, func, select

from dam import auth
from dam.cli import console, fail, runtime
from dam.errors import NotFound
from dam.models import Asset, AssetStatus, Job, JobStatus, Role, User
from dam.runtime import Runtime
from dam.wiring import Wiring
from ingest.bulk_import import ImportSummary, import_file, walk
from ingest.demo import generate_demo_library

DEMO_ADMIN = "admin@beeldbank.local"


def register(wiring: Wiring) -> None:
    wiring.add_command("import", import_command)
    wiring.add_command("demo", demo_command)


def import_command(
    paths: list[Path] = typer.Argument(..., exists=True, help="Files or folders to import."),
    owner: str | None = typer.Option(None, help="E-mail of the user the assets belong to."),
    process: bool = typer.Option(True, help="Process the files here and wait until done."),
) -> None:
    """Import files and folders: skips stored content, goes on past bad files, resumable."""
    with runtime() as rt:
        with rt.session() as session:
            user = _owner(session, owner)
        summary = run_import(rt, paths, user, process=process)
    _print_summary(summary)
    if summary.failed or summary.processing_failed:
        raise typer.Exit(1)


def demo_command() -> None:
    """Set up the demo: an admin (credentials printed) and a generated photo and video library."""
    with runtime() as rt:
        email, password = ensure_demo_admin(rt)
        folder = rt.settings.data_dir / "demo-library"
        paths = generate_demo_library(folder)
        with rt.session() as session:
            user = session.exec(select(User).where(User.email == email)).one()
        summary = run_import(rt, paths, user, process=True)
    _print_summary(summary)
    console.print(f"\nDemo admin: [bold]{email}[/bold]  password: [bold]{password}[/bold]")


def ensure_demo_admin(rt: Runtime) -> tuple[str, str]:
    """Create the demo admin once; its password is kept in the data dir (mode 0600)."""
    secret_file = rt.settings.data_dir / "demo-admin.txt"
    with rt.unit_of_work() as session:
        exists = session.exec(select(User).where(User.email == DEMO_ADMIN)).first()
        if exists is not None and secret_file.exists():
            return DEMO_ADMIN, secret_file.read_text().strip()
        password = secrets.token_urlsafe(12)
        if exists is None:
            auth.create_user(session, email=DEMO_ADMIN, password=password, role=Role.admin)
        else:
            exists.password_hash = auth.hash_password(password)
    secret_file.write_text(password + "\n")
    secret_file.chmod(0o600)
    return DEMO_ADMIN, password


def run_import(
    rt: Runtime, paths: list[Path], owner: User | None, *, process: bool
) -> ImportSummary:
    candidates = list(walk(paths))
    total_bytes = sum(c.size for c in candidates)
    summary = ImportSummary()
    if process:
        rt.queue.start_consumer(max(1, rt.settings.workers))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress, rt.session() as session:
        task = progress.add_task(f"0/{len(candidates)} files", total=total_bytes)
        for done, candidate in enumerate(candidates, start=1):
            import_file(session, blobs=rt.blobs, candidate=candidate, owner=owner, summary=summary)
            progress.update(
                task, advance=candidate.size, description=f"{done}/{len(candidates)} files"
            )
    if process and summary.imported:
        _wait_for_processing(rt, summary.imported)
        with rt.session() as session:
            failed = session.exec(
                select(Asset.filename, Asset.error).where(
                    col(Asset.id).in_(summary.imported), Asset.status == AssetStatus.failed
                )
            )
            summary.processing_failed.extend(
                (name, error or "processing failed") for name, error in failed
            )
    return summary


def _wait_for_processing(rt: Runtime, asset_ids: list[str]) -> None:
    with Progress(
        TextColumn("processing"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
    ) as progress:
        task = progress.add_task("processing", total=len(asset_ids))
        while True:
            with rt.session() as session:
                busy = session.exec(
                    select(func.count(func.distinct(Job.asset_id))).where(
                        col(Job.asset_id).in_(asset_ids),
                        col(Job.status).in_([JobStatus.queued, JobStatus.running]),
                    )
                ).one()
            progress.update(task, completed=len(asset_ids) - busy)
            if busy == 0:
                return
            time.sleep(0.3)


def _owner(session: Session, email: str | None) -> User | None:
    if email is None:
        return None
    try:
        return auth.get_user_by_email(session, email)
    except NotFound:
        raise fail(f"No user {email}; create one with `dam user add` first.") from None


def _print_summary(summary: ImportSummary) -> None:
    console.print(
        f"Imported {len(summary.imported)} ({len(summary.processing_failed)} of them could not "
        f"be processed), duplicates {summary.duplicates}, already imported {summary.skipped}, "
        f"refused {len(summary.failed)}."
    )
    for path, reason in summary.failed:
        console.print(f"  [red]refused[/red] {path}: {reason}")
    for name, reason in summary.processing_failed:
        console.print(f"  [yellow]failed[/yellow] {name}: {reason} (the original is kept)")
