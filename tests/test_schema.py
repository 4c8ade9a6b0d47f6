"""Migrations are the schema: applying them yields exactly what the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from dam import migrate
from dam.runtime import Runtime


def test_migrations_match_models(rt: Runtime) -> None:
    with rt.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrating_twice_is_harmless(rt: Runtime) -> None:
    with rt.engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_heads()
    migrate.upgrade(rt.engine)
    with rt.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == before
    heads = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert set(before) == set(heads)


def test_migrations_form_one_line() -> None:
    # A new migration's down_revision is the current head; two branches would apply in
    # an order nobody chose.
    heads = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
