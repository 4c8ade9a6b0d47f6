"""Every API route, every role: 401 without credentials, 403 below its permission."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from dam.auth import PERMISSIONS
from dam.models import Role
from tests import media
from tests.conftest import Account
from web.app import API_PREFIX, API_ROUTERS

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def route_permission(route: APIRoute) -> str | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        permission = getattr(dep.call, "permission", None)
        if permission:
            return str(permission)
        stack.extend(dep.dependencies)
    return None


# tus capability discovery: clients ask before they authenticate (tus 1.0.0, OPTIONS).
PUBLIC = {("OPTIONS", "/api/v1/uploads")}


def is_public(path: str, route: APIRoute) -> bool:
    return any((m, path) in PUBLIC for m in route.methods)


def api_routes() -> list[tuple[str, APIRoute]]:
    """(full path, route) for every route of the API routers."""
    return [
        (API_PREFIX + route.path, route)
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


def test_every_api_route_declares_a_known_permission(client: TestClient) -> None:
    routes = api_routes()
    assert len(routes) >= 10
    for path, route in routes:
        if is_public(path, route):
            assert route_permission(route) is None
            continue
        assert route_permission(route) in PERMISSIONS, f"{route.methods} {path}"
    # The routers walked here are all the API there is: compare with the served schema.
    served = {
        (m.upper(), p)
        for p, ops in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for m in ops
        if p.startswith("/api/")
    }
    walked = {(m, p) for p, r in routes for m in r.methods if m != "HEAD" or len(r.methods) == 1}
    assert served == walked


def test_docs_table_matches_the_code() -> None:
    text = (ROOT / "docs" / "roles.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| (\w+) \|", text, re.M))
    assert rows == {name: role.value for name, role in PERMISSIONS.items()}


@pytest.mark.parametrize("role", [None, *Role])
def test_role_matrix(
    client: TestClient, make_account: Callable[[Role], Account], role: Role | None
) -> None:
    owner = make_account(Role.admin)
    upload = client.post(
        "/api/v1/assets",
        headers=owner.headers,
        files={"file": ("a.jpg", media.jpeg(seed=40), "image/jpeg")},
    )
    asset_id = upload.json()["id"]
    headers = make_account(role).headers if role else {}
    values = {
        "asset_id": asset_id,
        "name": "thumb",
        "upload_id": "0" * 26,
        "collection_id": "0" * 26,
        "person_id": "0" * 26,
        "face_id": "0" * 26,
        "cluster_id": "0" * 26,
        "language": "nl",
        "consent_id": "0" * 26,
        "usage_id": "0" * 26,
        "link_id": "0" * 26,
        "job_id": "0" * 26,
        "batch_id": "0" * 26,
        "preset": "square",
    }
    for template, route in api_routes():
        if is_public(template, route):
            assert client.options(template).status_code == 204
            continue
        needed = PERMISSIONS[route_permission(route)]  # type: ignore[index]
        path = re.sub(r"\{(\w+)\}", lambda m: values[m[1]], template)
        for method in route.methods - {"HEAD"} if len(route.methods) > 1 else route.methods:
            kwargs: dict[str, object] = {"headers": {**headers, "Tus-Resumable": "1.0.0"}}
            if method in ("PATCH",) and "assets" in path:
                kwargs["json"] = {}
            if route.path.endswith("/jobs"):
                kwargs["params"] = {"asset_id": asset_id}
            if method == "DELETE" and "assets" in path:
                continue  # checked below, after the others, so the asset stays for them
            status = client.request(method, path, **kwargs).status_code  # type: ignore[arg-type]
            where = f"{method} {path} as {role}"
            if role is None:
                assert status == 401, where
            elif not role.includes(needed):
                assert status == 403, where
            else:
                assert status not in (401, 403) and status < 500, f"{where}: {status}"
    delete = client.delete(f"/api/v1/assets/{asset_id}", headers=headers).status_code
    needed = PERMISSIONS["assets.delete"]
    expected = 401 if role is None else (204 if role.includes(needed) else 403)
    assert delete == expected
