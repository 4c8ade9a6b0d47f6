"""A throw-away Beeldbank for a benchmark: a temp data directory and a migrated database,
SQLite in that directory or a fresh schema in the PostgreSQL at DAM_TEST_POSTGRES_URL,
removed afterwards."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from dam import migrate
from dam.runtime import Runtime, build_runtime
from dam.settings import load_settings

PG_URL = os.environ.get("DAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_runtime(database: str) -> Iterator[Runtime]:
    """A runtime on a new, migrated `database` ("sqlite" or "postgresql")."""
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if database == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            schema = f"bench_{secrets.token_hex(4)}"
            admin = create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
        settings = load_settings(
            data_dir=Path(tmp) / "data", database_url=url, queue_url="immediate://"
        )
        rt = build_runtime(settings)
        try:
            migrate.upgrade(rt.engine)
            yield rt
        finally:
            rt.close()
            if schema:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
