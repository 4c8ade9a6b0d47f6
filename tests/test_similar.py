"""The similar-assets hint finds re-encoded copies and leaves different pictures out."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image

from tests import media
from tests.conftest import Account


def test_reencoded_copy_is_similar_other_picture_is_not(
    client: TestClient, creative: Account
) -> None:
    original = media.jpeg(1600, 1200, seed=31)
    smaller = io.BytesIO()
    Image.open(io.BytesIO(original)).resize((800, 600)).save(smaller, "JPEG", quality=60)
    ids = []
    for name, data in (
        ("a.jpg", original),
        ("b.jpg", smaller.getvalue()),
        ("c.jpg", media.jpeg(1600, 1200, seed=99)),
    ):
        response = client.post(
            "/api/v1/assets", headers=creative.headers, files={"file": (name, data, "image/jpeg")}
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    similar = client.get(f"/api/v1/assets/{ids[0]}/similar", headers=creative.headers).json()
    assert [s["id"] for s in similar] == [ids[1]]
    assert similar[0]["distance"] <= 3
