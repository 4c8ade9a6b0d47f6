"""Events reach their subscribers; every error has the API's JSON body."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dam import events
from dam.runtime import Runtime
from tests import media
from tests.conftest import Account


@pytest.fixture
def recorded(rt: Runtime) -> list[events.Event]:
    seen: list[events.Event] = []

    def broken(_rt: Runtime, _event: events.Event) -> None:
        raise RuntimeError("a subscriber that fails must not stop the others")

    def record(_rt: Runtime, event: events.Event) -> None:
        seen.append(event)

    rt.wiring.subscribe(events.AssetProcessed, broken)
    rt.wiring.subscribe(events.AssetProcessed, record)
    rt.wiring.subscribe(events.AssetStored, record)
    return seen


def test_pipeline_publishes_stored_then_processed(
    client: TestClient, creative: Account, recorded: list[events.Event]
) -> None:
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("e.jpg", media.jpeg(seed=61), "image/jpeg")},
    )
    asset_id = response.json()["id"]
    assert recorded == [
        events.AssetStored(asset_id=asset_id),
        events.AssetProcessed(asset_id=asset_id, status="ready"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/nothing-here", 404, "not_found"),
        ("PUT", "/healthz", 405, "method_not_allowed"),
        ("GET", "/api/v1/assets", 401, "unauthorized"),
        ("GET", "/api/v1/assets?per_page=0", 401, "unauthorized"),
    ],
)
def test_error_bodies(client: TestClient, method: str, path: str, status: int, code: str) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_validation_error_names_the_field(client: TestClient, creative: Account) -> None:
    response = client.get("/api/v1/assets?per_page=0", headers=creative.headers)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "query.per_page"
