"""Input hygiene: what the API refuses (422, not 500 or a guess), licence addresses, the
Allow header of a 405, and the OpenAPI document naming every error with the one body."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam.models import Asset, Consent, Role
from dam.runtime import Runtime
from dam.urls import is_web_address
from tests.conftest import Account
from tests.feed_factories import make_asset
from tests.ui_client import log_in
from web.openapi import ERROR_BODY


@pytest.fixture
def officer(make_account: Callable[[Role], Account]) -> Account:
    return make_account(Role.privacy_officer)


def _person(client: TestClient, officer: Account) -> str:
    response = client.post("/api/v1/people", headers=officer.headers, json={"name": "An Claes"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _asset(rt: Runtime, account: Account) -> str:
    """A processed photo of `account`'s, straight through the services: these tests are
    about what the API refuses, not about the upload."""
    return make_asset(rt, "Zee", owner=account.user)


def test_an_empty_evidence_id_is_refused_not_a_server_error(
    client: TestClient, rt: Runtime, officer: Account
) -> None:
    person_id = _person(client, officer)
    body = {"channels": ["internal"], "granted_at": "2026-01-01", "evidence_asset_id": ""}
    url = f"/api/v1/people/{person_id}/consents"
    response = client.post(url, headers=officer.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == "evidence_asset_id"
    first = client.post(url, headers=officer.headers, json={**body, "evidence_asset_id": None})
    assert first.status_code == 201, first.text
    replaced = client.put(
        f"/api/v1/consents/{first.json()['id']}", headers=officer.headers, json=body
    )
    assert replaced.status_code == 422, replaced.text
    with rt.session() as session:
        assert len(session.exec(select(Consent)).all()) == 1


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/people", {"name": "Lies", "is_minor": 0}),
        ("/api/v1/people", {"name": "Lies", "hidden": "true"}),
        ("/api/v1/people/{person}", {"hidden": 1}),
        ("/api/v1/people/{person}/consents", {"channels": ["internal"], "granted_at": 0}),
        ("/api/v1/people/{person}/consents", {"channels": [""], "granted_at": "2026-01-01"}),
        (
            "/api/v1/people/{person}/consents",
            {"channels": ["internal"], "granted_at": "0001-01-01"},
        ),
        ("/api/v1/consents/{consent}/withdraw", {"at": 0}),
        ("/api/v1/consents/{consent}/withdraw", {"at": "2026-03-01"}),
    ],
)
def test_values_outside_the_schema_are_refused(
    client: TestClient, officer: Account, url: str, body: dict[str, object]
) -> None:
    """pydantic would read 0 as false or as 1970-01-01; the schema promises neither."""
    person_id = _person(client, officer)
    consent = client.post(
        f"/api/v1/people/{person_id}/consents",
        headers=officer.headers,
        json={"channels": ["internal"], "granted_at": "2026-01-01"},
    ).json()
    target = url.format(person=person_id, consent=consent["id"])
    method = client.patch if url == "/api/v1/people/{person}" else client.post
    response = method(target, headers=officer.headers, json=body)
    assert response.status_code == 422, response.text
    # the same forms are accepted as the schema says them
    assert (
        client.get("/api/v1/audit?since=2026-01-01T00:00:00Z", headers=officer.headers).status_code
        == 200
    )
    assert client.get("/api/v1/audit?since=0", headers=officer.headers).status_code == 422


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://creativecommons.org/licenses/by/4.0/", True),
        ("HTTP://example.org/licence", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//example.org/no-scheme", False),
        ("https://", False),
        ("http://[::1", False),
    ],
)
def test_is_web_address(value: str, ok: bool) -> None:
    assert is_web_address(value) is ok


def test_licence_addresses_are_http_or_https_only(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = _asset(rt, creative)
    url = f"/api/v1/assets/{asset_id}"
    for bad in ("javascript:alert(1)", "data:text/html,x", 42):
        response = client.patch(url, headers=creative.headers, json={"licence": {"url": bad}})
        assert response.status_code == 422, response.text
        assert "http" in response.json()["error"]["message"]
    good = {"terms": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
    response = client.patch(url, headers=creative.headers, json={"licence": good})
    assert response.status_code == 200, response.text
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None and asset.licence == good


def test_the_asset_form_refuses_a_script_address(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = _asset(rt, creative)
    token = log_in(client, creative)
    response = client.post(
        f"/assets/{asset_id}",
        data={"title": "Zee", "licence_url": "javascript:alert(1)", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "Geef een webadres dat begint met https://." in response.text
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None and asset.licence == {}


def test_a_405_names_every_method_of_the_path(client: TestClient, creative: Account) -> None:
    response = client.put("/api/v1/assets/abc", headers=creative.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert client.delete("/api/v1/assets", headers=creative.headers).headers["allow"] == (
        "GET, POST"
    )
    assert client.delete("/login").headers["allow"] == "GET, POST"  # a UI page as well


def test_the_openapi_document_names_every_error_with_the_error_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas[ERROR_BODY]["required"] == ["error"]
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 body is never sent
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    for method, path, operation in operations:
        responses = operation["responses"]
        for status, response in responses.items():
            if status.startswith(("4", "5")) and (path, status) != ("/readyz", "503"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/" + ERROR_BODY), (method, path, status)
        if path.startswith("/api/") and method != "options":
            assert {"401", "403"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
    upload = document["paths"]["/api/v1/assets"]["post"]["responses"]
    assert {"400", "413", "415"} <= set(upload)
    assert "409" in document["paths"]["/api/v1/assets/{asset_id}/download"]["get"]["responses"]
    # readiness names its failing parts in a body of its own
    ready = document["paths"]["/readyz"]["get"]["responses"]["503"]
    assert ready["content"]["application/json"]["schema"]["$ref"].endswith("/Readiness")


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("get", "/api/v1/assets/a%00b", {}),
        ("get", "/api/v1/assets?tag=zee%00", {}),
        ("patch", "/api/v1/assets/{asset}", {"json": {"title": "Zee\u0000"}}),
        ("patch", "/api/v1/assets/{asset}", {"json": {"licence": {"terms\u0000": "x"}}}),
        ("post", "/api/v1/collections", {"json": {"title": "Zee", "description": "\u0000"}}),
        ("post", "/api/v1/assets", {"files": {"file": ("b.jpg", b"x")}, "data": {"title": "\0"}}),
    ],
)
def test_a_nul_character_is_refused_everywhere(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    method: str,
    url: str,
    kwargs: dict[str, object],
) -> None:
    """PostgreSQL text cannot hold U+0000: it used to end in a 500 there."""
    asset_id = _asset(rt, creative)
    response = getattr(client, method)(
        url.format(asset=asset_id), headers=creative.headers, **kwargs
    )
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["error"]["message"]


def test_a_nul_in_a_ui_form_is_refused(client: TestClient, creative: Account) -> None:
    token = log_in(client, creative)
    response = client.post("/collections", data={"title": "Zee\x00", "csrf_token": token})
    assert response.status_code == 422
    assert "<html" in response.text  # the UI's error page, not JSON
    # a literal backslash-u in text is no NUL
    response = client.post(
        "/api/v1/collections", headers=creative.headers, json={"title": "C:\\u0000 map"}
    )
    assert response.status_code == 201, response.text
