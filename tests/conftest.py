"""Shared fixtures: real SQLite and PostgreSQL, real files, a real queue.

Every test that uses `rt` (or anything built on it) runs once per database backend.
PostgreSQL tests get a fresh schema each; SQLite tests a fresh file. When a server
is unreachable its variant is skipped with the reason, or fails under CI=true.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from dam import auth, migrate
from dam.models import Role, User
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings, load_settings
from web.app import create_app

PG_URL = os.environ.get("DAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: a service CI promises must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required services must be reachable)")
    pytest.skip(reason)


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_URL} unreachable: {str(exc).strip()[:120]}"


@pytest.fixture(scope="session")
def pg_problem() -> str | None:
    return _pg_reachable()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'beeldbank.db'}"
        return
    problem = request.getfixturevalue("pg_problem")
    if problem:
        unavailable(problem)
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def settings_factory(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "queue_url": "immediate://",
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory()


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt), raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Account:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_account(rt: Runtime) -> Callable[[Role], Account]:
    def make(role: Role = Role.creative) -> Account:
        with rt.unit_of_work() as session:
            user = auth.create_user(
                session,
                email=f"{role.value}-{secrets.token_hex(4)}@example.test",
                password="correct horse battery",
                role=role,
            )
            token = auth.create_token(session, user=user, name="tests")
        return Account(user, token)

    return make


@pytest.fixture
def creative(make_account: Callable[[Role], Account]) -> Account:
    return make_account(Role.creative)
