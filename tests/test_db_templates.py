"""The per-test databases (tests/db_templates.py): every copy of a worker's migrated
template is at the newest revision and holds only its own rows; an empty database on
request."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from dam import auth, migrate
from dam.db import make_engine
from dam.models import Role, User
from tests import db_templates


def at_head_and_apart(urls: list[str]) -> None:
    engines = [make_engine(url) for url in urls]
    try:
        assert all(db_templates.at_head(engine) for engine in engines)
        with Session(engines[0]) as session:
            auth.create_user(
                session,
                email="een@example.test",
                password="correct horse battery",
                role=Role.viewer,
            )
            session.commit()
        counts = []
        for engine in engines:
            with Session(engine) as session:
                counts.append(session.exec(select(func.count()).select_from(User)).one())
        assert counts == [1, 0]
    finally:
        for engine in engines:
            engine.dispose()


def test_sqlite_copies_are_at_head_and_apart(sqlite_template: Path, tmp_path: Path) -> None:
    urls = []
    for name in ("a.db", "b.db"):
        db_templates.copy_sqlite(sqlite_template, tmp_path / name)
        urls.append(f"sqlite:///{tmp_path / name}")
    at_head_and_apart(urls)


def test_postgresql_clones_are_at_head_and_apart(pg_template: db_templates.PgTemplate) -> None:
    assert pg_template.ddl is not None, "pg_dump is missing: every clone is migrated instead"
    schemas = [pg_template.clone(), pg_template.clone()]
    try:
        at_head_and_apart([db_templates.schema_url(pg_template.url, s) for s in schemas])
    finally:
        for schema in schemas:
            pg_template.drop(schema)


@pytest.mark.empty_database
def test_an_empty_database_on_request(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert not db_templates.at_head(engine)
        migrate.upgrade(engine)
        assert db_templates.at_head(engine)
    finally:
        engine.dispose()
