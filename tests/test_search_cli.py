"""`dam reindex`, `dam check --search` and `--verdicts`, in-process with Typer's CliRunner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from dam.cli import app, install_commands
from dam.db import make_engine
from dam.settings import get_settings
from tests import media


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAM_DATABASE_URL", database_url)
    monkeypatch.setenv("DAM_QUEUE_URL", "immediate://")
    get_settings.cache_clear()
    install_commands()
    yield database_url
    get_settings.cache_clear()


def dam(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_reindex_and_check(cli_env: str, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(3):
        (folder / f"gent-{n}.jpg").write_bytes(media.jpeg(160, 120, seed=n + 1))
    code, output = dam("import", str(folder))
    assert code == 0, output
    code, output = dam("check", "--search")
    assert code == 0, output
    assert "3 assets checked against the search index: 0 missing, 0 stale, 0 left over" in output

    engine = make_engine(cli_env)
    with engine.begin() as conn:  # behind search's back
        conn.execute(text("UPDATE asset SET title = 'Belfort' WHERE filename = 'gent-1.jpg'"))
    engine.dispose()
    code, output = dam("check", "--search")
    assert code == 1
    assert "is stale in the search index" in output and "1 stale" in output

    code, output = dam("reindex")
    assert code == 0, output
    assert "Indexed 3 assets" in output
    code, output = dam("check", "--search")
    assert code == 0 and "0 stale" in output, output


def test_check_verdicts(cli_env: str, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(2):
        (folder / f"brugge-{n}.jpg").write_bytes(media.jpeg(160, 120, seed=n + 7))
    code, output = dam("import", str(folder))
    assert code == 0, output
    code, output = dam("check", "--verdicts", "--search")
    assert code == 0, output
    assert "2 assets' verdicts judged afresh: 0 stale, 0 not judged" in output
    assert "0 missing, 0 stale, 0 left over" in output

    engine = make_engine(cli_env)
    with engine.begin() as conn:  # behind the change feed's back: never cleared now
        conn.execute(
            text("UPDATE asset SET undetected_people = true WHERE filename = 'brugge-1.jpg'")
        )
    engine.dispose()
    code, output = dam("check", "--verdicts")
    assert code == 1
    assert "has a stale verdict" in output and "1 stale" in output, output


@pytest.mark.empty_database  # before `dam migrate`: the index is there, the marks are not
def test_doctor_reports_the_index(cli_env: str) -> None:
    _code, output = dam("doctor")
    assert "search" in output and "Tantivy" in output and "0 documents" in output, output
    assert "0 documents (run" in output, output  # the table wraps the rest
