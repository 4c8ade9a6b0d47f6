"""The `dam` command. Packages add their own commands through their plugin's register()."""

from __future__ import annotations

import getpass
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dam import accounts, audit, auth, doctor, logs, migrate, wiring_text
from dam.errors import DomainError
from dam.models import Role
from dam.plugins import builtin_wiring
from dam.runtime import Runtime, build_runtime
from dam.settings import SettingsError, get_settings
from dam.sizes import format_size
from dam.wiring import Wiring

app = typer.Typer(
    help="Beeldbank: photo and video library with GDPR consent enforcement.",
    no_args_is_help=True,
    add_completion=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")

console = Console()
err = Console(stderr=True)


@contextmanager
def runtime(*, migrate_first: bool = True) -> Iterator[Runtime]:
    """Build the process runtime from the environment; fail with every settings problem."""
    try:
        settings = get_settings()
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    logs.configure(settings)
    rt = build_runtime(settings)
    try:
        if migrate_first:
            migrate.upgrade(rt.engine)
        yield rt
    finally:
        rt.close()


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]{message}[/red]")
    return typer.Exit(code)


@app.command("migrate")
def migrate_command() -> None:
    """Apply database migrations (also done by serve)."""
    with runtime():
        console.print("Database is up to date.")


@app.command("worker")
def worker_command(
    workers: int = typer.Option(None, help="Consumer threads (default: DAM_WORKERS)."),
) -> None:
    """Run job consumers only (add these on more machines to scale out)."""
    with runtime() as rt:
        count = workers if workers is not None else rt.settings.workers
        rt.queue.start_consumer(max(1, count))
        console.print(f"Worker running with {max(1, count)} thread(s); Ctrl+C stops it.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        console.print("Stopping after the running jobs finish...")


@user_app.command("add")
def user_add(
    email: str = typer.Option(..., help="The user's e-mail address (their login)."),
    role: Role = typer.Option(..., help="viewer, creative, privacy_officer or admin."),
    password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
    break_glass: bool = typer.Option(
        False, help="An admin who may log in with this password when DAM_LOCAL_LOGIN=false."
    ),
) -> None:
    """Create a user; the password is read from stdin or asked for."""
    password = _read_password(password_stdin)
    with runtime() as rt, rt.unit_of_work() as session:
        try:
            user = auth.create_user(session, email=email, password=password, role=role)
            if break_glass:
                accounts.set_break_glass(session, email=user.email, on=True)
        except DomainError as exc:
            raise fail(exc.message) from None
        console.print(
            f"Created {user.email} ({user.role}{', break-glass' if break_glass else ''})."
        )


@user_app.command("break-glass")
def user_break_glass(
    email: str = typer.Option(..., help="The administrator's e-mail address."),
    off: bool = typer.Option(False, "--off", help="Take the break-glass right away again."),
    password_stdin: bool = typer.Option(False, help="Read the new password from standard input."),
) -> None:
    """Let an admin log in with a (new) password while local login is off, or stop that."""
    password = None if off else _read_password(password_stdin)
    with runtime() as rt, rt.unit_of_work() as session:
        try:
            user = accounts.set_break_glass(session, email=email, on=not off, password=password)
        except DomainError as exc:
            raise fail(exc.message) from None
        state = "no longer" if off else "now"
        console.print(f"{user.email} is {state} a break-glass administrator.")


@token_app.command("create")
def token_create(
    email: str = typer.Option(..., help="Whose token."),
    name: str = typer.Option("", help="What the token is for."),
) -> None:
    """Create an API token and print it once."""
    with runtime() as rt, rt.unit_of_work() as session:
        try:
            user = auth.get_user_by_email(session, email)
        except DomainError as exc:
            raise fail(exc.message) from None
        token = auth.create_token(session, user=user, name=name)
    print(token)


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 when it was tampered with."""
    with runtime() as rt, rt.session() as session:
        result = audit.verify(session)
    if result.ok:
        console.print(f"Audit log intact: {result.entries} entries.")
        return
    raise fail(f"Audit log broken at entry {result.first_bad} ({result.entries} checked).")


@app.command("check")
def check_command(
    quick: bool = typer.Option(False, help="Only check presence and size, not hashes."),
    search: bool = typer.Option(
        False, "--search", help="Instead, compare the search index with the database."
    ),
    verdicts: bool = typer.Option(
        False, "--verdicts", help="Instead, compare the stored verdicts with fresh ones."
    ),
) -> None:
    """Verify every original against its hash; report missing and orphaned files."""
    from dam.check import check_originals, run_part

    # The packages register these parts (dam.check.register_part).
    parts = [name for name, wanted in (("verdicts", verdicts), ("search", search)) if wanted]
    if parts:
        problems = False
        with runtime() as rt:
            for name in parts:
                part = run_part(name, rt)
                for problem in part.problems:
                    console.print(f"[yellow]{problem}[/yellow]")
                console.print(part.summary)
                problems = problems or bool(part.problems)
        if problems:
            raise typer.Exit(1)
        return
    from dam import leftovers

    with runtime() as rt:
        with rt.session() as session:
            report = check_originals(session, rt.blobs, verify_hashes=not quick)
        left = leftovers.find(rt.settings, rt.session)  # its own session (SQLite: one writer)
    for problem in report.problems:
        console.print(f"[yellow]{problem}[/yellow]")
    for item in left:
        console.print(f"[yellow]leftover temp file {item.describe(rt.settings.data_dir)}[/yellow]")
    console.print(
        f"{report.checked} originals checked: {len(report.missing)} missing, "
        f"{len(report.corrupt)} damaged, {len(report.orphans)} orphaned; "
        f"{len(left)} leftover temp file(s) (removed when Beeldbank next starts)."
    )
    if report.problems or left:
        raise typer.Exit(1)


@app.command("backup")
def backup_command(
    dest: Path = typer.Argument(..., help="The backup directory (made when missing)."),
) -> None:
    """Back up the database, originals, derived files and erasure ledger while serving."""
    from dam import backup, db_dump

    with runtime() as rt:
        try:
            report = backup.make_backup(
                settings=rt.settings,
                engine=rt.engine,
                dest=dest,
                key_ids=backup.embedding_keys(rt.engine),
            )
        except (backup.BackupError, db_dump.DumpError) as exc:
            raise fail(str(exc)) from None
    console.print(
        f"Backup {report.snapshot.name}: {report.files} files "
        f"({format_size(report.total_bytes)}), {report.copied} new "
        f"({format_size(report.copied_bytes)}), {report.ledger_entries} erasure(s) in the "
        f"ledger, {report.seconds:.1f} s."
    )
    for note in report.notes:
        console.print(note)


@app.command("restore")
def restore_command(
    src: Path = typer.Argument(..., help="A backup directory (its newest snapshot) or a snapshot."),
    ledger: list[Path] = typer.Option([], help="Another erasure ledger to re-apply (repeatable)."),
) -> None:
    """Restore a backup into an empty data dir and database; erasures are re-applied."""
    from dam import backup, restore

    try:
        settings = get_settings()
    except SettingsError as exc:
        raise fail(str(exc), 2) from None
    logs.configure(settings)
    try:
        report = restore.restore(settings, src, ledgers=ledger)
    except (restore.RestoreError, backup.BackupError) as exc:
        raise fail(str(exc)) from None
    migrated = " (migrated to the current version)" if report.migrated else ""
    console.print(
        f"Restored {report.snapshot.name}: {report.files} files "
        f"({format_size(report.bytes)}) checked against their hashes, audit log intact "
        f"({report.audit_entries} entries){migrated}; {report.ledger_entries} erasure(s) in "
        f"the ledger, {len(report.erased_again)} person(s) erased again; rebuilt: "
        f"{', '.join(report.rebuilt) or 'nothing'}."
    )
    for note in report.notes:
        console.print(f"[yellow]{note}[/yellow]")


@app.command("doctor")
def doctor_command(
    wiring: bool = typer.Option(
        False, "--wiring", help="Instead, print what runs: pipelines, subscribers, tasks."
    ),
    as_json: bool = typer.Option(False, "--json", help="With --wiring: as JSON."),
) -> None:
    """Report what this machine can do: ffmpeg, codecs, database, queue, search."""
    if wiring:
        description = builtin_wiring().describe()
        if as_json:
            print(json.dumps(description, indent=2))
        else:
            typer.echo(wiring_text.render(description))
        return
    with runtime(migrate_first=False) as rt:
        findings = doctor.run_checks(rt)
    table = Table("part", "state", "details")
    for finding in findings:
        colour = {"ok": "green", "missing": "yellow", "error": "red"}[finding.state]
        table.add_row(finding.name, f"[{colour}]{finding.state}[/{colour}]", finding.detail)
    console.print(table)
    if any(f.state == "error" for f in findings):
        raise typer.Exit(1)


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise fail("The passwords differ.")
    if not password:
        raise fail("No password given.")
    return password


def install_commands(wiring: Wiring | None = None) -> typer.Typer:
    """`app` with the commands the plugins add (each once, however often called)."""
    wiring = wiring if wiring is not None else builtin_wiring()
    have = {info.name for info in app.registered_commands}
    for name, command in wiring.commands.items():
        if name not in have:
            app.command(name)(command)
    groups = {info.name for info in app.registered_groups}
    for name, group in wiring.command_groups.items():
        if name not in groups:
            app.add_typer(group, name=name)
    return app


def main() -> None:
    install_commands()
    app()
