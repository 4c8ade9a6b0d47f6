"""Uploading and reading assets through the HTTP API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dam.models import AssetKind
from dam.plugins import builtin_wiring
from tests import media
from tests.conftest import Account


def upload(
    client: TestClient, account: Account, data: bytes, name: str = "photo.jpg", **fields: str
):
    return client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (name, data, "application/octet-stream")},
        data=fields,
    )


def test_upload_processes_to_ready_with_renditions(client: TestClient, creative: Account) -> None:
    response = upload(
        client,
        creative,
        media.jpeg(3000, 2000, orientation=6),
        title="Graslei",
        tags="Gent, zomer,gent",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    asset = client.get(f"/api/v1/assets/{body['id']}", headers=creative.headers).json()
    assert asset["status"] == "ready", asset["error"]
    assert (asset["width"], asset["height"]) == (3000, 2000)
    assert asset["title"] == "Graslei"
    assert asset["tags"] == ["gent", "zomer"]
    sizes = {r["name"]: (r["width"], r["height"], r["mime"]) for r in asset["renditions"]}
    assert sizes == {
        "large": (2560, 1707, "image/jpeg"),
        "preview": (1600, 1067, "image/webp"),
        "thumb": (400, 267, "image/webp"),
    }
    assert asset["placeholder"]


def test_same_content_returns_existing_asset(client: TestClient, creative: Account) -> None:
    data = media.jpeg(seed=7)
    first = upload(client, creative, data)
    second = upload(client, creative, data, name="copy.jpg")
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["duplicate"] is True


def test_type_is_sniffed_not_taken_from_the_name(client: TestClient, creative: Account) -> None:
    response = upload(client, creative, media.png(), name="looks-like.jpg")
    assert response.status_code == 201
    asset = client.get(f"/api/v1/assets/{response.json()['id']}", headers=creative.headers).json()
    assert asset["mime"] == "image/png"
    assert asset["status"] == "ready"


def test_refuses_unaccepted_type_and_empty_file(client: TestClient, creative: Account) -> None:
    pdf = upload(client, creative, b"%PDF-1.7\n" + b"x" * 200, name="doc.jpg")
    assert pdf.status_code == 415
    assert "PDF" in pdf.json()["error"]["message"]
    empty = upload(client, creative, b"", name="empty.jpg")
    assert empty.status_code == 415
    assert empty.json()["error"]["code"] == "unsupported_media"


def test_truncated_jpeg_fails_with_message_and_keeps_original(
    client: TestClient, creative: Account
) -> None:
    data = media.jpeg(1200, 900, seed=3)
    response = upload(client, creative, data[: len(data) // 2])
    assert response.status_code == 201
    asset_id = response.json()["id"]
    asset = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
    assert asset["status"] == "failed"
    assert "cut off" in asset["error"]
    original = client.get(f"/api/v1/assets/{asset_id}/original", headers=creative.headers)
    assert original.status_code == 200
    assert original.content == data[: len(data) // 2]


def test_rendition_supports_range_etag_and_caching(client: TestClient, creative: Account) -> None:
    asset_id = upload(client, creative, media.jpeg(seed=11)).json()["id"]
    url = f"/api/v1/assets/{asset_id}/renditions/thumb"
    full = client.get(url, headers=creative.headers)
    assert full.status_code == 200
    assert full.headers["content-type"] == "image/webp"
    assert "immutable" in full.headers["cache-control"]
    partial = client.get(url, headers={**creative.headers, "Range": "bytes=0-99"})
    assert partial.status_code == 206
    assert partial.content == full.content[:100]
    cached = client.get(url, headers={**creative.headers, "If-None-Match": full.headers["etag"]})
    assert cached.status_code == 304


def test_patch_and_delete(client: TestClient, creative: Account) -> None:
    asset_id = upload(client, creative, media.jpeg(seed=12)).json()["id"]
    patched = client.patch(
        f"/api/v1/assets/{asset_id}",
        headers=creative.headers,
        json={"title": "Nieuw", "alt_text": "Twee fietsers", "tags": ["A", "b"]},
    )
    assert patched.status_code == 200
    assert patched.json()["title"] == "Nieuw"
    assert patched.json()["tags"] == ["a", "b"]
    bad = client.patch(f"/api/v1/assets/{asset_id}", headers=creative.headers, json={"colour": 1})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_input"
    assert client.delete(f"/api/v1/assets/{asset_id}", headers=creative.headers).status_code == 204
    gone = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers)
    assert gone.status_code == 404
    assert gone.json() == {
        "error": {"code": "not_found", "message": "There is no asset with this id."}
    }


def test_jobs_show_stages(client: TestClient, creative: Account) -> None:
    asset_id = upload(client, creative, media.jpeg(seed=13)).json()["id"]
    jobs = client.get(
        "/api/v1/jobs", params={"asset_id": asset_id}, headers=creative.headers
    ).json()
    stages = builtin_wiring().pipeline_for(AssetKind.image)
    assert stages[:2] == ["probe", "renditions"]
    assert [(j["stage"], j["status"], j["progress"]) for j in jobs] == [
        (stage, "done", 1.0) for stage in stages
    ]
    assert all(j["duration_s"] is not None and j["attempts"] == 1 for j in jobs)
