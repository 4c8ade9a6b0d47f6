"""No route sends asset bytes except through the gate (gdpr/gate.py), now or next year.

How: every route of the real application (`create_app(...).routes`: API, UI and public
pages) is walked from its endpoint through everything it can call inside `web/`. The walk
reads the compiled code, not the text: each name a function's code uses (globals,
attributes, closures, nested functions and lambdas) is resolved to the object it stands
for, so an alias (`from fastapi.responses import FileResponse as F`), a helper function
in another web module or a closure handed to a helper is followed all the same. A route
fails when anything it can reach

- uses a response class that streams files or iterators (FileResponse,
  StreamingResponse, or any Response subclass not known to carry JSON, HTML or a
  redirect), or
- builds a plain Response (or PlainTextResponse) with a body,

other than through `web.files.file_response`, which takes only a `Release`; and a Release
refuses to exist unless gdpr.gate.release made it (its seal). The walk stays inside web/,
so no module of dam, gdpr, ingest or search may hold a response class at all (a service
cannot hand a route a ready-made file response either). The routes that reach
file_response are the byte routes; tests/test_gate_matrix.py runs each of them for every
role and asset state, and checks that its list of byte routes is this one, so a new byte
route cannot go untested either. That module also runs every GET route and fails for any
answer that carries bytes without a Release made during the request: what a static walk
could miss (bytes smuggled through JSON or HTML aside) is caught at run time.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import starlette.responses
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from dam.runtime import build_runtime
from dam.settings import load_settings
from gdpr import gate
from web import files
from web.api_docs import ScriptResponse, swagger_ui_path
from web.app import create_app
from web.metrics import MetricsResponse
from web.ui.static import STATIC_DIR

# Responses that carry no asset bytes: serialised data, rendered pages, redirects, the
# Prometheus figures, the API docs' start script.
WITHOUT_BYTES = (JSONResponse, HTMLResponse, RedirectResponse, MetricsResponse, ScriptResponse)
# Responses that carry whatever they are given: allowed only without a body.
BODY_TAKING = (Response, PlainTextResponse)
WEB_DIR = Path(files.__file__).resolve().parent
# FastAPI's own page (the OpenAPI schema): no asset data in it.
FRAMEWORK_PATHS = {"/openapi.json"}
# Mounted folders of files that ship with Beeldbank: the UI's CSS, scripts and icons, and
# Swagger UI's (web/api_docs.py). No asset bytes.
STATIC_DIRS = {STATIC_DIR, Path(str(swagger_ui_path))}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The real application; its routes are all this module needs (no database)."""
    data = tmp_path_factory.mktemp("gate-routes")
    settings = load_settings(
        data_dir=data, database_url=f"sqlite:///{data / 'x.db'}", queue_url="immediate://"
    )
    runtime = build_runtime(settings)
    yield create_app(runtime)
    runtime.close()


@dataclass
class Reach:
    """What an endpoint can reach inside web/: its functions, and the objects they use."""

    functions: list[types.FunctionType] = field(default_factory=list)
    objects: dict[int, tuple[Any, str]] = field(default_factory=dict)  # id -> (obj, where)
    _seen: set[int] = field(default_factory=set)

    def uses(self, obj: Any) -> bool:
        return id(obj) in self.objects


def _in_web(obj: Any) -> bool:
    return str(getattr(obj, "__module__", "") or "").startswith("web.")


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """A code object and those nested in it (inner functions, lambdas, comprehensions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def reach(endpoint: Callable[..., Any]) -> Reach:
    """Everything `endpoint` can call inside web/, following names through the compiled
    code; web.files.file_response is the gate's exit and is not entered."""
    found = Reach()
    todo: list[Any] = [inspect.unwrap(endpoint)]
    while todo:
        fn = todo.pop()
        if id(fn) in found._seen:
            continue
        found._seen.add(id(fn))
        if isinstance(fn, type):  # a class defined in web/: every method of it
            todo.extend(v for v in vars(fn).values() if isinstance(v, types.FunctionType))
            continue
        if not isinstance(fn, types.FunctionType):
            continue
        found.functions.append(fn)
        where = f"{fn.__module__}.{fn.__qualname__}"
        values: list[Any] = [c.cell_contents for c in (fn.__closure__ or ()) if _filled(c)]
        names = {n for code in _codes(fn.__code__) for n in code.co_names}
        modules = [fn.__globals__.get(n) for n in names]
        for name in names:
            if name in fn.__globals__:
                values.append(fn.__globals__[name])
            # `module.name`: resolve the attribute on every module the code mentions.
            values.extend(
                getattr(m, name)
                for m in modules
                if isinstance(m, types.ModuleType) and hasattr(m, name)
            )
        values.extend(fn.__defaults__ or ())
        for value in values:
            found.objects.setdefault(id(value), (value, where))
            if value is files.file_response:
                continue
            if isinstance(value, types.FunctionType | type) and _in_web(value):
                todo.append(value)
    return found


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def byte_classes(found: Reach) -> list[str]:
    """Response classes `found` uses that can carry files or streams."""
    problems = []
    for obj, where in found.objects.values():
        if not (isinstance(obj, type) and issubclass(obj, Response)):
            continue
        if issubclass(obj, WITHOUT_BYTES) or obj in BODY_TAKING:
            continue
        problems.append(f"{where} uses {obj.__module__}.{obj.__qualname__}")
    return problems


def bodies(found: Reach) -> list[str]:
    """Calls in `found` that build a Response or PlainTextResponse with a body."""
    problems = []
    for fn in found.functions:
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError):
            if WEB_DIR not in Path(fn.__code__.co_filename).resolve().parents:
                continue  # made by dataclasses and the like: no code of ours in it
            problems.append(f"{fn.__module__}.{fn.__qualname__}: source unavailable")
            continue
        free = zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True)
        scope = {**fn.__globals__, **{n: c.cell_contents for n, c in free if _filled(c)}}
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            called = _resolve(node.func, scope)
            has_body = bool(node.args) or any(k.arg in ("content", None) for k in node.keywords)
            if called in BODY_TAKING and has_body:
                line = fn.__code__.co_firstlineno + node.lineno - 1
                problems.append(f"{fn.__module__}:{line} builds {called.__name__} with a body")
    return problems


def _resolve(node: ast.expr, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, scope)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def endpoints(app: FastAPI) -> list[tuple[str, str, Callable[..., Any], type | None]]:
    """(methods, path, endpoint, response class) of every route; a mount must be files that
    ship with Beeldbank (STATIC_DIRS)."""
    found = []
    # FastAPI keeps included routers as branches; this yields the routes it serves.
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, Mount):
            assert isinstance(original.app, StaticFiles), f"unexpected mount {original.path}"
            assert Path(str(original.app.directory)) in STATIC_DIRS, original.path
            continue  # files that ship with Beeldbank: no asset bytes
        path, methods = str(route.path), ",".join(sorted(route.methods or ()))
        endpoint = route.endpoint
        assert endpoint is not None, f"a route without an endpoint: {path}"
        if path in FRAMEWORK_PATHS:
            assert not _in_web(endpoint), path
            continue
        assert _in_web(endpoint), f"{methods} {path}: endpoint from {endpoint.__module__}"
        response_class = route.response_class if isinstance(original, APIRoute) else None
        found.append((methods, path, endpoint, response_class))
    return found


def byte_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(methods, path) of every route that can send a Release."""
    return {
        (methods, path)
        for methods, path, endpoint, _ in endpoints(app)
        if reach(endpoint).uses(files.file_response)
    }


def test_no_route_sends_bytes_around_the_gate(app: FastAPI) -> None:
    routes = endpoints(app)
    assert len(routes) > 80  # API, UI and public pages all walked
    problems = []
    for methods, path, endpoint, response_class in routes:
        found = reach(endpoint)
        problems += [f"{methods} {path}: {p}" for p in byte_classes(found) + bodies(found)]
        # FastAPI wraps a value an endpoint returns in its response_class: a FileResponse
        # there would send whatever path the endpoint returns, so only with the gate.
        carries = isinstance(response_class, type) and not issubclass(
            response_class, WITHOUT_BYTES + BODY_TAKING
        )
        if carries and not found.uses(files.file_response):
            problems.append(f"{methods} {path}: a {response_class} without the gate")
    assert problems == []


def test_file_response_takes_only_a_release_and_only_the_gate_makes_one() -> None:
    signature = inspect.signature(files.file_response, eval_str=True)
    assert next(iter(signature.parameters.values())).annotation is gate.Release
    with pytest.raises(TypeError, match=r"gdpr\.gate\.release"):
        gate.Release(media_type="image/jpeg", path=Path("/etc/passwd"))


def test_the_walk_catches_a_route_that_forgets(app: FastAPI) -> None:
    """The checks above are not vacuous: routes written the old ways are caught."""
    from fastapi.responses import FileResponse as Sneaky
    from fastapi.responses import StreamingResponse

    def helper(path: Path) -> Response:
        return Sneaky(path)

    def direct(asset_id: str) -> Response:
        return helper(Path(asset_id))

    def streamed(asset_id: str) -> Response:
        return StreamingResponse(iter([asset_id.encode()]))

    def raw(asset_id: str) -> Response:
        return Response(asset_id.encode(), media_type="image/jpeg")

    def gated(asset_id: str) -> Response:
        ask = gate.OriginalFile(asset_id)
        return files.file_response(gate.release(None, ask, by=None))  # type: ignore[arg-type,call-arg]

    for fn in (helper, direct, streamed, raw, gated):
        fn.__module__ = "web.api.future"  # as if written in web/ next year
    assert byte_classes(reach(direct)) and byte_classes(reach(streamed))
    assert bodies(reach(raw))
    assert not byte_classes(reach(gated)) and not bodies(reach(gated))
    assert reach(gated).uses(files.file_response)
    # Today's byte routes are found through their helpers (public.py's _serve, closures).
    found = byte_routes(app)
    assert ("GET", "/s/{token}/download") in found
    assert ("GET", "/s/{token}/captions/{language}.vtt") in found
    assert ("GET", "/api/v1/assets/{asset_id}/captioned/{name}") in found


def test_no_package_outside_web_builds_responses() -> None:
    """The walk above follows code inside web/ only; a service that built a response for a
    route to return would slip past it, so services hold no response classes at all."""
    found = []
    for package in ("dam", "gdpr", "ingest", "search"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".migrations" in info.name:
                continue  # Alembic's scripts: run by Alembic only, and serve nothing
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                is_response = isinstance(value, type) and issubclass(value, Response)
                if is_response or value is starlette.responses:
                    found.append(f"{info.name}.{name}")
    assert found == []
