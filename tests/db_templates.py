"""Migrated template databases, made once per test worker and copied per test.

Running every Alembic migration costs a few hundred milliseconds per database, twice per
test (SQLite and PostgreSQL); a copy of an already migrated template costs a few (SQLite:
a file copy) or a fraction of that (PostgreSQL: the template's DDL, taken once with
pg_dump, replayed in a fresh schema in one statement). Each test still gets a database of
its own, so tests stay as isolated as before.
"""

from __future__ import annotations

import queue
import secrets
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import psycopg
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from dam import migrate
from dam.db import make_engine


def schema_url(url: str, schema: str) -> str:
    """`url` with `schema` as the search path (a libpq connection option)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@cache
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads())


def at_head(engine: Engine) -> bool:
    """Whether the database behind `engine` is migrated to the newest revision (a copy of
    a template is; a test's own database_url may not be)."""
    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()
            return frozenset(found) == head_revisions()
    except DBAPIError:
        return False


def sqlite_template(path: Path) -> Path:
    """Migrate a new SQLite file at `path`, everything in the main file (no WAL left)."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine)
        raw = engine.raw_connection()  # outside a transaction: a checkpoint needs that
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    finally:
        engine.dispose()
    return path


def copy_sqlite(template: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)


def dump_schema(url: str, schema: str) -> str | None:
    """The SQL that rebuilds `schema` (tables, indexes, constraints, sequences and rows),
    or None when no usable pg_dump is at hand (then clones are migrated instead)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    done = subprocess.run(
        [pg_dump, "--no-owner", "--no-privileges", "--inserts", "--schema", schema,
         "--dbname", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return None  # e.g. a pg_dump older than the server
    # Comments and psql meta-commands (\restrict ... since PostgreSQL 15.14) are no SQL.
    lines = [line for line in done.stdout.splitlines() if not line.startswith(("--", "\\"))]
    return "\n".join(lines)


@dataclass
class PgTemplate:
    """A migrated schema in the test database, and its DDL to clone it per test.

    A helper thread makes the next test's clone while the current test runs and drops the
    schemas tests are done with, so a test waits for neither (under load each took a good
    part of a second, mostly waiting for the server)."""

    url: str
    schema: str
    ddl: str | None
    _conn: psycopg.Connection | None = field(default=None, repr=False)
    _tasks: queue.Queue[tuple[str, str] | None] = field(default_factory=queue.Queue, repr=False)
    _ready: queue.Queue[str | Exception] = field(default_factory=queue.Queue, repr=False)
    _helper: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def create(cls, url: str) -> PgTemplate:
        schema = f"tmpl_{secrets.token_hex(6)}"
        template = cls(url=url, schema=schema, ddl=None)
        template._admin().execute(f'CREATE SCHEMA "{schema}"')
        engine = make_engine(schema_url(url, schema))
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        template.ddl = dump_schema(url, schema)
        return template

    def _admin(self) -> psycopg.Connection:
        # One connection for the clones and drops (the helper's, once it runs); a test that
        # ends server connections (fault tests) may break it, then the next task opens another.
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    def clone(self) -> str:
        """A new schema holding what the template holds; returns its name."""
        if self._helper is None:
            self._helper = threading.Thread(target=self._work, name="pg-clones", daemon=True)
            self._helper.start()
            self._tasks.put(("clone", ""))
        made = self._ready.get(timeout=300)
        self._tasks.put(("clone", ""))  # the next test's, made while this one runs
        if isinstance(made, Exception):
            raise made
        return made

    def drop(self, schema: str) -> None:
        """Drop `schema` soon (the helper does it; the caller does not wait)."""
        if self._helper is None:
            self._drop_now(schema)
        else:
            self._tasks.put(("drop", schema))

    def close(self) -> None:
        if self._helper is not None:
            self._tasks.put(None)
            self._helper.join(timeout=120)
        try:
            while not self._ready.empty():  # the clone made for a test that never came
                left = self._ready.get_nowait()
                if isinstance(left, str):
                    self._drop_now(left)
            self._drop_now(self.schema)
        finally:
            if self._conn is not None:
                self._conn.close()

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            kind, name = task
            for attempt in (1, 2):  # once more on a fresh connection
                try:
                    if kind == "clone":
                        self._ready.put(self._clone_now())
                    else:
                        self._drop_now(name)
                    break
                except Exception as exc:  # handed to the test that waits for the clone
                    if attempt == 2 and kind == "clone":
                        self._ready.put(exc)
                    # A drop that failed twice leaves a schema behind, nothing a test sees.

    def _clone_now(self) -> str:
        schema = f"t_{secrets.token_hex(6)}"
        if self.ddl is None:
            self._admin().execute(f'CREATE SCHEMA "{schema}"')
            engine = make_engine(schema_url(self.url, schema))
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            return schema
        # The dump names every object with its schema: point those names at the clone.
        ddl = self.ddl.replace(f"{self.schema}.", f"{schema}.").replace(
            f"SCHEMA {self.schema};", f"SCHEMA {schema};"
        )
        conn = self._admin()
        with conn.transaction():
            conn.execute(ddl)  # our own dump, not user input
        return schema

    def _drop_now(self, schema: str) -> None:
        self._admin().execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
