"""Consistent copies of a running database and loading them into an empty one: SQLite's
online backup API, PostgreSQL's pg_dump/pg_restore (Debian's postgresql-client)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


class DumpError(Exception):
    """The database could not be copied or loaded; the message says why."""


@dataclass(frozen=True)
class Dump:
    file: str  # the name inside the backup
    dialect: str  # "sqlite" | "postgresql"
    schema: str | None  # PostgreSQL: the schema the dump holds


def dump(engine: Engine, target_dir: Path) -> Dump:
    """Write a consistent copy of the database into `target_dir`, while it serves."""
    if engine.dialect.name == "sqlite":
        return _dump_sqlite(engine, target_dir / SQLITE_FILE)
    return _dump_postgresql(engine, target_dir / PG_FILE)


def _dump_sqlite(engine: Engine, target: Path) -> Dump:
    # The online backup API, all pages in one step: in WAL mode that step reads one
    # snapshot while writers go on (copied in several steps, a write by another
    # connection in between would restart the copy, and a busy server would never let
    # it finish).
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
    finally:
        raw.close()
    return Dump(SQLITE_FILE, "sqlite", None)


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DumpError(
            f"{name} is not installed: on Debian 'apt-get install postgresql-client' "
            "(the same major version as the server, or newer)"
        )
    return found


def _libpq_url(engine: Engine) -> str:
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def current_schema(engine: Engine) -> str:
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    if not schema:
        raise DumpError("the database has no schema on its search path to dump")
    return str(schema)


def _dump_postgresql(engine: Engine, target: Path) -> Dump:
    schema = current_schema(engine)
    # pg_dump reads one REPEATABLE READ snapshot: consistent while requests write.
    done = subprocess.run(
        [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
         "--schema", schema, "--file", str(target), "--dbname", _libpq_url(engine)],
        capture_output=True, text=True, timeout=6 * 3600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise DumpError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    return Dump(PG_FILE, "postgresql", schema)


def is_empty(engine: Engine) -> bool:
    """No tables where the application would create its own."""
    return not inspect(engine).get_table_names()


def load(engine: Engine, source_dir: Path, found: Dump) -> None:
    """Load a dump into the (empty) database behind `engine`."""
    if not is_empty(engine):
        raise DumpError("the database is not empty: restore only into an empty database")
    if found.dialect != engine.dialect.name:
        raise DumpError(
            f"this backup holds a {found.dialect} database, DAM_DATABASE_URL points to "
            f"{engine.dialect.name}"
        )
    if found.dialect == "sqlite":
        _load_sqlite(engine, source_dir / found.file)
    else:
        _load_postgresql(engine, source_dir / found.file, found.schema or "public")


def _load_sqlite(engine: Engine, source: Path) -> None:
    database = engine.url.database
    if not database:
        raise DumpError("DAM_DATABASE_URL names no SQLite file")
    engine.dispose()
    target = Path(database)
    for suffix in ("-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".restore")
    shutil.copyfile(source, temp)
    temp.replace(target)


def _load_postgresql(engine: Engine, source: Path, schema: str) -> None:
    with engine.connect() as conn:
        target_schema = conn.execute(text("SELECT current_schema()")).scalar()
        search_path = conn.execute(text("SHOW search_path")).scalar() or ""
    wanted = [part.strip().strip('"') for part in search_path.split(",")]
    if target_schema is None and schema not in wanted:
        raise DumpError(f"the database's search path does not name schema {schema!r}")
    if target_schema is not None and target_schema != schema:
        raise DumpError(
            f"this backup holds schema {schema!r}, but the database's search path "
            f"starts with {target_schema!r}: restore into a database where it is {schema!r}"
        )
    # The dump creates its schema: an empty one already there (a new database's public
    # schema, or one made for the restore) is dropped first.
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}"'))  # not CASCADE: only empty
    url = make_url(_libpq_url(engine))
    database_url = url.render_as_string(hide_password=False)
    engine.dispose()
    done = subprocess.run(
        [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", "--dbname", database_url, str(source)],
        capture_output=True, text=True, timeout=6 * 3600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise DumpError(f"pg_restore failed: {done.stderr.strip()[:500]}")
