"""Health, readiness and the audit API over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dam.models import Role
from dam.runtime import build_runtime
from dam.settings import Settings
from tests import media
from tests.conftest import Account
from web.app import create_app

pytestmark = pytest.mark.one_database


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["parts"] == {
        "database": "ok",
        "storage": "ok",
        "queue": "ok",
        "search": "ok",
    }


def test_readiness_names_the_failing_part(settings_factory: Callable[..., Settings]) -> None:
    # Nothing listens on port 1: the queue cannot answer, the rest can.
    runtime = build_runtime(settings_factory(queue_url="redis://127.0.0.1:1/0"))
    try:
        with TestClient(create_app(runtime)) as client:
            ready = client.get("/readyz")
            assert client.get("/healthz").status_code == 200
    finally:
        runtime.close()
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["queue"]


def test_audit_records_uploads_and_downloads(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    creative = make_account(Role.creative)
    officer = make_account(Role.privacy_officer)
    asset_id = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("x.jpg", media.jpeg(seed=51), "image/jpeg")},
    ).json()["id"]
    assert (
        client.get(f"/api/v1/assets/{asset_id}/original", headers=creative.headers).status_code
        == 200
    )
    entries = client.get(
        "/api/v1/audit", params={"subject_id": asset_id}, headers=officer.headers
    ).json()
    assert [e["action"] for e in entries] == ["asset.original_downloaded", "asset.uploaded"]
    assert {e["actor_id"] for e in entries} == {creative.user.id}
    verify = client.get("/api/v1/audit/verify", headers=officer.headers).json()
    assert verify["ok"] is True and verify["first_bad"] is None
    assert verify["entries"] >= 6  # two users, two tokens, upload, download
    assert client.get("/api/v1/audit", headers=creative.headers).status_code == 403
