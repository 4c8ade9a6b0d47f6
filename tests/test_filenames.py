"""File names from clients: UTF-8 in multipart and tus, RFC 5987, and the byte limit."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from dam.errors import BadRequest
from ingest.filenames import MAX_FILENAME_BYTES, client_filename, disposition_params
from tests import media
from tests.conftest import Account

CURLY = "“Zomer” op ’t strand.jpg"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('form-data; name="file"; filename="a.jpg"', {"name": "file", "filename": "a.jpg"}),
        ('form-data; name="file"; filename="写真.jpg"', {"name": "file", "filename": "写真.jpg"}),
        (f'form-data; name="file"; filename="{CURLY}"', {"name": "file", "filename": CURLY}),
        (
            'form-data; name="file"; filename="x.jpg"; filename*=UTF-8\'\'%E5%86%99%E7%9C%9F.jpg',
            {"name": "file", "filename": "写真.jpg"},
        ),
        (
            "form-data; name=file; filename*=iso-8859-1'nl'caf%E9.jpg",
            {"name": "file", "filename": "café.jpg"},
        ),
        # an unknown charset or broken encoding leaves the plain parameter in charge
        (
            "form-data; name=file; filename=plain.jpg; filename*=koi8-r''%C1.jpg",
            {"name": "file", "filename": "plain.jpg"},
        ),
        (
            "form-data; name=file; filename=plain.jpg; filename*=UTF-8''%FF.jpg",
            {"name": "file", "filename": "plain.jpg"},
        ),
        (
            'form-data; name="file"; filename="a;b \\"c\\".jpg"',
            {"name": "file", "filename": 'a;b "c".jpg'},
        ),
        ('form-data; NAME="title"', {"name": "title"}),
    ],
)
def test_disposition_params(header: str, expected: dict[str, str]) -> None:
    assert disposition_params(header) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("C:\\Users\\An\\foto.jpg", "foto.jpg"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\nc.jpg", "abc.jpg"),
        ("Cafe\u0301.jpg", "Café.jpg"),  # NFC
    ],
)
def test_client_filename(raw: str | None, expected: str | None) -> None:
    assert client_filename(raw) == expected


def test_client_filename_limit_counts_utf8_bytes() -> None:
    assert client_filename("写" * 83 + ".jpg") == "写" * 83 + ".jpg"  # 253 bytes
    with pytest.raises(BadRequest, match=f"at most {MAX_FILENAME_BYTES} bytes"):
        client_filename("写" * 84 + ".jpg")  # 256 bytes
    # the path does not count: only the name that is stored
    assert client_filename("/" + "d" * 400 + "/x.jpg") == "x.jpg"


def _multipart(disposition: bytes, data: bytes) -> tuple[bytes, str]:
    boundary = "beeldbankboundary"
    body = (
        f"--{boundary}\r\n".encode()
        + b"Content-Disposition: "
        + disposition
        + b"\r\nContent-Type: image/jpeg\r\n\r\n"
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _post_raw(client: TestClient, account: Account, disposition: bytes, data: bytes):
    body, ctype = _multipart(disposition, data)
    return client.post(
        "/api/v1/assets", headers={**account.headers, "Content-Type": ctype}, content=body
    )


@pytest.mark.parametrize("name", ["写真.jpg", CURLY, "Ærøskøbing zomer 2024.jpg"])
def test_multipart_raw_utf8_filename(client: TestClient, creative: Account, name: str) -> None:
    data = media.jpeg(seed=len(name))
    disposition = f'form-data; name="file"; filename="{name}"'.encode()
    response = _post_raw(client, creative, disposition, data)
    assert response.status_code == 201, response.text
    asset_id = response.json()["id"]
    assert (
        client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()["filename"]
        == name
    )
    original = client.get(f"/api/v1/assets/{asset_id}/original", headers=creative.headers)
    assert original.status_code == 200
    assert quote(name) in original.headers["content-disposition"]


def test_multipart_rfc5987_filename(client: TestClient, creative: Account) -> None:
    disposition = b'form-data; name="file"; filename="fallback.jpg"; filename*=UTF-8\'\'' + (
        quote("写真.jpg").encode()
    )
    response = _post_raw(client, creative, disposition, media.jpeg(seed=31))
    assert response.status_code == 201, response.text
    body = client.get(f"/api/v1/assets/{response.json()['id']}", headers=creative.headers).json()
    assert body["filename"] == "写真.jpg"


@pytest.mark.parametrize("length", [256, 5000, 40_000])
def test_multipart_filename_over_the_limit(
    client: TestClient, creative: Account, length: int
) -> None:
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("a" * (length - 4) + ".jpg", media.jpeg(seed=32), "image/jpeg")},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
    assert "255 bytes" in response.json()["error"]["message"]
    assert client.get("/api/v1/assets", headers=creative.headers).json()["total"] == 0


def test_malformed_multipart_is_a_bad_request(client: TestClient, creative: Account) -> None:
    response = client.post(
        "/api/v1/assets",
        headers={**creative.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=b"--xyz\r\nContent-Disposition form-data\r\n\r\nzz",
    )
    assert response.status_code == 400, response.text


def _tus_create(client: TestClient, account: Account, name: str, data: bytes):
    return client.post(
        "/api/v1/uploads",
        headers={
            **account.headers,
            "Tus-Resumable": "1.0.0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": "filename " + base64.b64encode(name.encode()).decode(),
        },
        content=data,
    )


def test_tus_utf8_filename(client: TestClient, creative: Account) -> None:
    response = _tus_create(client, creative, "写真 “zomer”.jpg", media.jpeg(seed=33))
    assert response.status_code == 201, response.text
    asset_id = response.headers["Beeldbank-Asset-Id"]
    body = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
    assert body["filename"] == "写真 “zomer”.jpg"


def test_tus_filename_over_the_limit(client: TestClient, creative: Account) -> None:
    response = _tus_create(client, creative, "é" * 200 + ".jpg", media.jpeg(seed=34))
    assert response.status_code == 400, response.text
    assert "255 bytes" in response.json()["error"]["message"]
