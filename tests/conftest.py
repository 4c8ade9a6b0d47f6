"""Shared fixtures: real SQLite and PostgreSQL, real files, a real queue.

Every test that uses `rt` (or anything built on it) runs once per database backend, on a
database of its own that is already migrated: each xdist worker migrates one template
per backend (tests/db_templates.py) and every test gets a copy (a file copy for SQLite,
a schema cloned from the template's DDL for PostgreSQL), so the migrations run once per
worker instead of twice per test. `@pytest.mark.empty_database` gives a test an empty
database instead. When a server is unreachable its variant is skipped with the reason,
or fails under CI=true.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi.routing as fastapi_routing
import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_limits

from dam import auth, migrate, owner
from dam.models import Role, User
from dam.owner import Owner
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings, load_settings
from ingest.faces.threads import opencv_threads
from ingest.video import process as video_process
from tests import db_templates, ffmpeg_builds
from web.app import create_app

PG_URL = os.environ.get("DAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# One Redis database per xdist worker: the queue tests empty theirs (test_compose uses 14).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get(
    "DAM_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{(15, 13, 12, 11, 10, 9, 8, 7)[_WORKER % 8]}"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
PRODUCTION_NICENESS = video_process.NICENESS


def _share_endpoint_analysis_between_apps() -> None:
    """Nearly every test builds an app of its own, and FastAPI analyses every endpoint's
    signature and dependencies again for each app (about 0.5 s of CPU per app: half the
    time of a typical HTTP test). The analysis depends only on the path, the endpoint and
    its dependencies, so the tests' apps share it. When FastAPI changes this private
    function the tests run slower, not differently."""
    build = getattr(fastapi_routing, "_build_dependant_with_parameterless_dependencies", None)
    if build is None or getattr(build, "shared_by_tests", False):
        return
    analysed: dict[tuple[object, ...], object] = {}

    def shared(*, path: str, call: Callable[..., object], dependencies: Any) -> object:
        key = (path, call, *((d.dependency, d.use_cache, d.scope) for d in dependencies))
        if key not in analysed:
            analysed[key] = build(path=path, call=call, dependencies=dependencies)
        return analysed[key]

    shared.shared_by_tests = True  # type: ignore[attr-defined]
    fastapi_routing._build_dependant_with_parameterless_dependencies = shared


_share_endpoint_analysis_between_apps()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `one_database`: files that are not about the database (decoding, transcoding, page
    # flows, protocols) run on SQLite only. PostgreSQL runs for the files where the
    # database's own behaviour is at stake: queue and change feed, concurrency, search,
    # visibility and gate queries, input hygiene, migrations, backup, erasure.
    left_out = [item for item in items if _postgresql_variant_of_a_one_database_file(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not _postgresql_variant_of_a_one_database_file(item)]


def _postgresql_variant_of_a_one_database_file(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (
        item.get_closest_marker("one_database") is not None
        and callspec is not None
        and callspec.params.get("database_url") == "postgresql"
    )


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


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """Argon2id with small costs. Production's costs take 0.2 s of CPU per hash and per
    check; every account a test makes and every log-in paid that, a large share of the
    suite. The hashes are still real argon2 hashes made and checked by dam.auth."""
    production = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    auth._hasher = production


@pytest.fixture(autouse=True, scope="session")
def blas_threads_per_worker() -> Iterator[None]:
    """Each xdist worker's BLAS (numpy's and OpenCV's OpenBLAS) gets the worker's share of
    the cores, as production gives OpenCV (ingest/faces/threads.py): OpenBLAS starts a
    thread per core, and with 3 workers on 2 cores those threads spin waiting for a busy
    core instead of computing. The clustering test (20,000 x 128 descriptors) took 35 %
    less CPU with one thread. Run without xdist, BLAS keeps its threads."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with threadpool_limits(limits=opencv_threads(cores or 1, workers), user_api="blas"):
        yield


@pytest.fixture(autouse=True, scope="session")
def ffmpeg_at_normal_priority() -> Iterator[None]:
    """ffmpeg at the tests' own priority. Production runs it at nice 19 in an autogroup of
    its own, so conversions never slow the web app; in the suite that starved every video
    test whenever anything else ran (the other xdist worker, PostgreSQL, other test runs on
    the machine), and they took minutes instead of seconds. A test that checks the
    priority asks for `production_niceness`."""
    production = video_process.NICENESS
    video_process.NICENESS = 0
    yield
    video_process.NICENESS = production


@pytest.fixture(autouse=True, scope="session")
def bundled_ffmpeg_on_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The pipeline's ffmpeg is the bundled build unless a test says otherwise, whatever
    the machine has installed (CI installs Debian's too: tests/test_ffmpeg_builds.py runs
    the video pipeline with that one). Done the way a server does it: first on PATH."""
    with ffmpeg_builds.first_on_path(
        ffmpeg_builds.bundled(), tmp_path_factory.mktemp("bundled-ffmpeg")
    ):
        yield


@pytest.fixture
def production_niceness(monkeypatch: pytest.MonkeyPatch) -> int:
    """ffmpeg at production's low priority for this test; returns that niceness."""
    monkeypatch.setattr(video_process, "NICENESS", PRODUCTION_NICENESS)
    return PRODUCTION_NICENESS


@pytest.fixture(scope="session")
def pg_problem() -> str | None:
    return _pg_reachable()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once per worker; tests get copies."""
    return db_templates.sqlite_template(tmp_path_factory.mktemp("template") / "beeldbank.db")


@pytest.fixture(scope="session")
def pg_template(pg_problem: str | None) -> Iterator[db_templates.PgTemplate]:
    """A migrated PostgreSQL schema, made once per worker; tests get clones."""
    if pg_problem:
        unavailable(pg_problem)
    template = db_templates.PgTemplate.create(PG_URL)
    yield template
    template.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database of the test's own: migrated to head, unless the test is
    marked `empty_database`."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        target = tmp_path / "beeldbank.db"
        if not empty:
            db_templates.copy_sqlite(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    if empty:
        problem = request.getfixturevalue("pg_problem")
        if problem:
            unavailable(problem)
        schema = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield db_templates.schema_url(PG_URL, schema)
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        return
    template: db_templates.PgTemplate = request.getfixturevalue("pg_template")
    schema = template.clone()
    try:
        yield db_templates.schema_url(PG_URL, schema)
    finally:
        template.drop(schema)


@pytest.fixture
def dead() -> Owner:
    """The identity of a process of this host that has ended (as after a kill -9)."""
    process = subprocess.Popen(["sleep", "30"])
    started = owner.start_time(process.pid)
    process.kill()
    process.wait()
    me = owner.current()
    return Owner(host=me.host, boot=me.boot, pid=process.pid, started=started or "")


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
    # A copy of the template is at head already; a test that brings its own database_url
    # (or an empty one) is migrated here as before.
    if not db_templates.at_head(runtime.engine):
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


# The real OpenID Provider the single sign-on tests log in at (a session fixture). Imported
# last: tests/oidc_provider.py uses `unavailable` from this module.
from tests.oidc_provider import oidc_provider  # noqa: E402, F401
