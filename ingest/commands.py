"""`dam import` and `dam demo`."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlmodel import Session, col, func, select

from dam import auth
from dam.cli import console, fail, runtime
from dam.errors import DomainError, NotFound
from dam.models import Asset, AssetStatus, Job, JobStatus, LicenceStatus, Role, User
from dam.runtime import Runtime
from dam.wiring import Wiring
from ingest.bulk_import import ImportOptions, ImportSummary, import_all, walk, write_report
from ingest.demo import generate_demo_library
from ingest.import_mapping import load_mapping

DEMO_ADMIN = "admin@beeldbank.local"


def register(wiring: Wiring) -> None:
    wiring.add_command("import", import_command)
    wiring.add_command("demo", demo_command)


def import_command(
    paths: list[Path] = typer.Argument(..., exists=True, help="Files or folders to import."),
    owner: str | None = typer.Option(None, help="E-mail of the user the assets belong to."),
    process: bool = typer.Option(True, help="Process the files here and wait until done."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=32, help="Files read and stored at once (and processed)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only say what would happen; store nothing."
    ),
    licence: LicenceStatus | None = typer.Option(
        None, "--licence", help="Licence status of every file: own, licensed or unknown."
    ),
    credit: str = typer.Option(
        "", "--credit", help="Credit line for files whose metadata names none."
    ),
    collections_from_folders: bool = typer.Option(
        False, "--collections-from-folders", help="Put files in a collection per folder."
    ),
    folder_depth: int = typer.Option(
        1, "--folder-depth", min=1, max=10, help="Folder levels that name the collection."
    ),
    mapping: Path | None = typer.Option(
        None,
        "--mapping",
        exists=True,
        dir_okay=False,
        help="TOML or YAML file mapping custom fields.",
    ),
    report: Path | None = typer.Option(
        None, "--report", help="Where to write the CSV report (default: in the data dir)."
    ),
) -> None:
    """Import files and folders (an archive): sidecars and embedded metadata read, stored
    content skipped, bad files reported, resumable; a CSV report of every file."""
    with runtime() as rt:
        with rt.session() as session:
            user = _owner(session, owner)
        if collections_from_folders and user is None:
            raise fail("--collections-from-folders needs --owner: collections have an owner.")
        try:
            field_mapping = load_mapping(mapping) if mapping else None
        except DomainError as exc:
            raise fail(exc.message) from None
        options = ImportOptions(
            licence_status=licence,
            credit=credit.strip()[:500],
            folder_depth=folder_depth if collections_from_folders else 0,
            mapping=field_mapping,
            dry_run=dry_run,
        )
        summary = run_import(
            rt, paths, user, process=process and not dry_run, workers=workers, options=options
        )
        target = report or rt.settings.data_dir / "imports" / f"import-{_stamp()}.csv"
        write_report(summary, target)
    _print_summary(summary, dry_run=dry_run)
    console.print(f"Report of every file: {target}")
    if summary.failed or summary.processing_failed:
        raise typer.Exit(1)


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


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


class RateColumn(ProgressColumn):
    """Files per second, averaged over the run so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:.1f} files/s")


def run_import(
    rt: Runtime,
    paths: list[Path],
    owner: User | None,
    *,
    process: bool,
    workers: int = 1,
    options: ImportOptions | None = None,
) -> ImportSummary:
    candidates = list(walk(paths))
    if process:
        rt.queue.start_consumer(max(1, workers, rt.settings.workers))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        label = "checking" if options and options.dry_run else "importing"
        task = progress.add_task(label, total=len(candidates))
        summary = import_all(
            rt,
            candidates,
            owner=owner,
            options=options or ImportOptions(),
            workers=workers,
            on_file=lambda _report: progress.advance(task),
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


def _print_summary(summary: ImportSummary, *, dry_run: bool = False) -> None:
    if dry_run:
        console.print(
            f"Dry run: would import {summary.would_import}, duplicates {summary.duplicates}, "
            f"already imported {summary.skipped}, would refuse {len(summary.failed)}. "
            "Nothing was stored."
        )
        for path, reason in summary.failed:
            console.print(f"  [red]would refuse[/red] {path}: {reason}")
        return
    console.print(
        f"Imported {len(summary.imported)} ({len(summary.processing_failed)} of them could not "
        f"be processed), duplicates {summary.duplicates}, already imported {summary.skipped}, "
        f"refused {len(summary.failed)}."
    )
    for path, reason in summary.failed:
        console.print(f"  [red]refused[/red] {path}: {reason}")
    for name, reason in summary.processing_failed:
        console.print(f"  [yellow]failed[/yellow] {name}: {reason} (the original is kept)")
