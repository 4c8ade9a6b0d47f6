"""Collections through the JSON API and the service: create, rename, describe, fill, empty."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from dam.models import AuditEntry, CollectionAsset
from dam.runtime import Runtime
from tests.conftest import Account
from tests.ui_client import upload


def test_collection_lifecycle(client: TestClient, rt: Runtime, creative: Account) -> None:
    headers = creative.headers
    ids = [upload(client, creative, seed=s) for s in (61, 62, 63)]
    created = client.post(
        "/api/v1/collections",
        json={"title": "  Campagne   welzijn 2026 ", "description": "Voor de folder"},
        headers=headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["title"] == "Campagne welzijn 2026" and body["asset_count"] == 0
    cid = body["id"]

    added = client.post(
        f"/api/v1/collections/{cid}/assets",
        json={"asset_ids": [*ids, ids[0], "0" * 26]},
        headers=headers,
    )
    assert added.json() == {"changed": 3}  # duplicates and unknown ids are skipped
    again = client.post(
        f"/api/v1/collections/{cid}/assets", json={"asset_ids": ids}, headers=headers
    )
    assert again.json() == {"changed": 0}

    detail = client.get(f"/api/v1/collections/{cid}?per_page=2", headers=headers).json()
    assert detail["asset_count"] == 3 and len(detail["items"]) == 2
    listed = client.get("/api/v1/collections", headers=headers).json()
    assert [c["id"] for c in listed] == [cid] and listed[0]["asset_count"] == 3

    renamed = client.patch(
        f"/api/v1/collections/{cid}", json={"title": "Welzijn 2026"}, headers=headers
    )
    assert renamed.json()["title"] == "Welzijn 2026"
    assert renamed.json()["description"] == "Voor de folder"
    removed = client.delete(f"/api/v1/collections/{cid}/assets/{ids[0]}", headers=headers)
    assert removed.status_code == 204

    # Deleting an asset takes it out of every collection; deleting the collection keeps assets.
    assert client.delete(f"/api/v1/assets/{ids[1]}", headers=headers).status_code == 204
    with rt.session() as session:
        members = set(session.exec(select(CollectionAsset.asset_id)))
    assert members == {ids[2]}
    assert client.delete(f"/api/v1/collections/{cid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/collections/{cid}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/assets/{ids[2]}", headers=headers).status_code == 200

    with rt.session() as session:
        actions = list(session.exec(select(AuditEntry.action).where(AuditEntry.subject_id == cid)))
    assert actions == [
        "collection.created",
        "collection.assets_added",
        "collection.updated",
        "collection.assets_removed",
        "collection.deleted",
    ]


def test_collection_input_is_validated(client: TestClient, creative: Account) -> None:
    headers = creative.headers
    for body in ({"title": "   "}, {"title": "x" * 201}, {"title": "ok", "colour": "red"}):
        response = client.post("/api/v1/collections", json=body, headers=headers)
        assert response.status_code == 422, body
    created = client.post("/api/v1/collections", json={"title": "ok"}, headers=headers).json()
    empty = client.post(
        f"/api/v1/collections/{created['id']}/assets", json={"asset_ids": []}, headers=headers
    )
    assert empty.status_code == 422
    unknown = client.post(
        f"/api/v1/collections/{created['id']}/assets",
        json={"asset_ids": ["0" * 26]},
        headers=headers,
    )
    assert unknown.status_code == 404
