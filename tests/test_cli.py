"""The `dam` command line, run in-process with Typer's CliRunner against both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from dam import accounts, auth
from dam.cli import app, install_commands
from dam.db import make_engine
from dam.settings import get_settings
from tests import media

pytestmark = pytest.mark.one_database


@pytest.fixture
def cli_env(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    env = {
        "DAM_DATA_DIR": str(tmp_path / "data"),
        "DAM_DATABASE_URL": database_url,
        "DAM_QUEUE_URL": "immediate://",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    install_commands()
    yield env
    get_settings.cache_clear()


class Outcome:
    """A CLI run with its output's white space folded (rich wraps at the terminal width)."""

    def __init__(self, result) -> None:  # type: ignore[no-untyped-def]
        self.exit_code: int = result.exit_code
        self.output: str = " ".join(result.output.split())
        # Without any white space: a long path may be folded in the middle of a word.
        self.compact: str = "".join(result.output.split())


def dam(*args: str, stdin: str | None = None) -> Outcome:
    return Outcome(CliRunner().invoke(app, list(args), input=stdin))


def test_user_and_token(cli_env: dict[str, str]) -> None:
    added = dam(
        "user",
        "add",
        "--email",
        "An@Example.be",
        "--role",
        "creative",
        "--password-stdin",
        stdin="long enough password\n",
    )
    assert added.exit_code == 0, added.output
    assert "an@example.be (creative)" in added.output
    again = dam(
        "user", "add", "--email", "an@example.be", "--role", "viewer", stdin="another password\n"
    )
    assert again.exit_code == 1
    assert "exists already" in again.output
    short = dam("user", "add", "--email", "b@example.be", "--role", "viewer", stdin="short\n")
    assert short.exit_code == 1
    token = dam("token", "create", "--email", "an@example.be", "--name", "laptop")
    assert token.exit_code == 0
    value = token.output.strip()
    assert value.startswith("bb_")
    engine = make_engine(cli_env["DAM_DATABASE_URL"])
    with Session(engine) as session:
        assert auth.user_for_token(session, value).email == "an@example.be"
    engine.dispose()


def test_break_glass_admin(cli_env: dict[str, str]) -> None:
    """With local login off only a break-glass admin logs in with a password, made here."""
    password = "emergency only password\n"
    added = dam(
        "user",
        "add",
        "--email",
        "nood@example.be",
        "--role",
        "admin",
        "--break-glass",
        stdin=password,
    )
    assert added.exit_code == 0, added.output
    assert "nood@example.be (admin, break-glass)" in added.output
    dam("user", "add", "--email", "c@example.be", "--role", "creative", stdin=password)
    refused = dam("user", "break-glass", "--email", "c@example.be", stdin=password)
    assert refused.exit_code == 1 and "Only an administrator" in refused.output
    engine = make_engine(cli_env["DAM_DATABASE_URL"])
    with Session(engine) as session:
        user = accounts.authenticate(
            session, email="nood@example.be", password=password.strip(), local_login=False
        )
        assert user.break_glass
        with pytest.raises(accounts.WrongCredentials):
            accounts.authenticate(
                session, email="c@example.be", password=password.strip(), local_login=False
            )
    off = dam("user", "break-glass", "--email", "nood@example.be", "--off")
    assert off.exit_code == 0 and "no longer" in off.output
    with Session(engine) as session, pytest.raises(accounts.WrongCredentials):
        accounts.authenticate(
            session, email="nood@example.be", password=password.strip(), local_login=False
        )
    engine.dispose()


def test_invalid_settings_list_every_problem(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAM_WORKERS", "-1")
    monkeypatch.setenv("DAM_QUEUE_URL", "amqp://nope")
    monkeypatch.setenv("DAM_DEFAULT_TIMEZONE", "Mars/Olympus")
    get_settings.cache_clear()
    result = dam("migrate")
    assert result.exit_code == 2
    for name in ("DAM_WORKERS", "DAM_QUEUE_URL", "DAM_DEFAULT_TIMEZONE"):
        assert name in result.output


def test_import_summary_resume_and_check(cli_env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "kaart"
    (folder / "sub").mkdir(parents=True)
    good = media.jpeg(800, 600, seed=21)
    (folder / "a.jpg").write_bytes(good)
    (folder / "sub" / "copy.jpg").write_bytes(good)
    (folder / "png-named.jpg").write_bytes(media.png())
    (folder / "notes.txt").write_bytes(b"just some words, not a photo at all" * 3)
    truncated = media.jpeg(1000, 800, seed=22)
    (folder / "cut.jpg").write_bytes(truncated[: len(truncated) // 3])
    (folder / ".hidden.jpg").write_bytes(media.jpeg(seed=23))

    first = dam("import", str(folder))
    assert first.exit_code == 1, first.output  # something failed: the exit code says so
    assert (
        "Imported 3 (1 of them could not be processed), duplicates 1, already imported 0, refused 1"
        in first.output
    )
    assert "notes.txt:Thisfiletypeisnotaccepted" in first.compact
    assert "cut.jpg:Thefileiscutoff" in first.compact
    # Said once for all, not appended to reasons that may say it themselves.
    assert "Could not be processed (their originals are kept):" in first.output
    assert "(the original is kept)" not in first.output

    second = dam("import", str(folder))
    assert (
        "Imported 0 (0 of them could not be processed), duplicates 0, already imported 4, refused 1"
        in second.output
    )

    check = dam("check")
    assert check.exit_code == 0, check.output
    assert "3 originals checked: 0 missing, 0 damaged, 0 orphaned" in check.output
    originals = sorted((Path(cli_env["DAM_DATA_DIR"]) / "originals").glob("??/??/*"))
    originals[0].unlink()
    (originals[1].parent / ("f" * 64)).write_bytes(b"stray")
    broken = dam("check")
    assert broken.exit_code == 1
    assert "1 missing, 0 damaged, 1 orphaned" in broken.output


def test_audit_verify(cli_env: dict[str, str]) -> None:
    dam("user", "add", "--email", "c@example.be", "--role", "admin", stdin="long enough password\n")
    ok = dam("audit", "verify")
    assert ok.exit_code == 0
    assert "Audit log intact: 1 entries" in ok.output
    engine = make_engine(cli_env["DAM_DATABASE_URL"])
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_entry SET action = 'nothing.happened'")
    engine.dispose()
    broken = dam("audit", "verify")
    assert broken.exit_code == 1
    assert "broken at entry 1" in broken.output


def test_doctor_reports_the_machine(cli_env: dict[str, str]) -> None:
    dam("migrate")
    result = dam("doctor")
    assert result.exit_code == 0, result.output
    for part in ("database", "queue", "Pillow JPEG", "HEIC/HEIF", "ffmpeg"):
        assert part in result.output
