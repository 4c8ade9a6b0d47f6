"""Alembic environment: runs against the connection or URL that dam.migrate hands over."""

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import dam.models  # noqa: F401  (registers every table on SQLModel.metadata)
from dam.db import make_engine
from dam.plugins import builtin_wiring

# Packages own tables too (search's index sync); autogenerate must see them, or it would
# offer to drop them. Wiring the built-in plugins imports their modules.
builtin_wiring()

config = context.config
target_metadata = SQLModel.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run_with(conn)
    engine.dispose()


def _run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
