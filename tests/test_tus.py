"""Resumable uploads (tus 1.0.0) through a live server, driven by the tuspy client."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image
from tusclient import client as tus_client
from tusclient.uploader import Uploader

from dam import clock
from dam.models import Role
from dam.runtime import Runtime
from ingest import tus
from ingest.sniff import HEAD_BYTES
from tests import media
from tests.conftest import Account
from tests.live_server import running
from web.app import create_app

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


class Sha256Uploader(Uploader):
    """tuspy sends sha1 checksums by default; Beeldbank accepts sha256."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.fixture
def server(rt: Runtime) -> Iterator[str]:
    with running(create_app(rt)) as url:
        yield url


@pytest.fixture(scope="module")
def photo() -> bytes:
    """A 1.7 MB JPEG of noise: big enough to cut halfway, small enough to process fast."""
    rng = random.Random(5)
    image = Image.frombytes("RGB", (1600, 1200), rng.randbytes(1600 * 1200 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def uploads_url(server: str) -> str:
    return f"{server}/api/v1/uploads"


def tus_uploader(server: str, account: Account, data: bytes, **options: object) -> Uploader:
    tc = tus_client.TusClient(uploads_url(server), headers=account.headers)
    return Sha256Uploader(
        file_stream=io.BytesIO(data),
        client=tc,
        metadata={"filename": "graslei.jpg"},
        **options,  # type: ignore[arg-type]
    )


def last_headers(uploader: Uploader) -> dict[str, str]:
    """Headers of the uploader's last PATCH response, names in lower case."""
    assert uploader.request is not None
    return uploader.request.response_headers


def upload_url(uploader: Uploader) -> str:
    assert uploader.url is not None
    return uploader.url


def create(server: str, account: Account, length: int, **headers: str) -> str:
    response = requests.post(
        uploads_url(server),
        timeout=10,
        headers={**account.headers, **TUS, "Upload-Length": str(length), **headers},
    )
    assert response.status_code == 201, response.text
    return server + response.headers["Location"]


def patch(
    url: str, account: Account, body: bytes, offset: int, **headers: str
) -> requests.Response:
    return requests.patch(
        url,
        data=body,
        timeout=30,
        headers={**account.headers, **OCTETS, "Upload-Offset": str(offset), **headers},
    )


def head(url: str, account: Account) -> requests.Response:
    return requests.head(url, headers={**account.headers, **TUS}, timeout=10)


def asset(server: str, account: Account, asset_id: str) -> dict:
    response = requests.get(
        f"{server}/api/v1/assets/{asset_id}", headers=account.headers, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def sha256_b64(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_options_advertise_version_extensions_and_limit(server: str, rt: Runtime) -> None:
    response = requests.options(uploads_url(server), timeout=10)
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    extensions = set(response.headers["Tus-Extension"].split(","))
    assert {
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    } <= extensions
    assert response.headers["Tus-Max-Size"] == str(rt.settings.max_upload_bytes)
    assert response.headers["Tus-Checksum-Algorithm"] == "sha256"


def test_full_upload_becomes_a_ready_asset(server: str, creative: Account, photo: bytes) -> None:
    uploader = tus_uploader(server, creative, photo)
    uploader.upload()
    final = last_headers(uploader)
    assert int(final["upload-offset"]) == len(photo)
    body = asset(server, creative, final["beeldbank-asset-id"])
    assert body["status"] == "ready", body["error"]
    assert body["sha256"] == hashlib.sha256(photo).hexdigest()
    assert body["filename"] == "graslei.jpg"
    assert (body["width"], body["height"]) == (1600, 1200)
    done = head(upload_url(uploader), creative)
    assert done.headers["Beeldbank-Asset-Id"] == body["id"]


def test_chunked_upload_in_several_patches(server: str, creative: Account, photo: bytes) -> None:
    uploader = tus_uploader(
        server, creative, photo, chunk_size=len(photo) // 4 + 1, upload_checksum=True
    )
    offsets = []
    while uploader.offset < len(photo):
        uploader.upload_chunk()
        offsets.append(uploader.offset)
        if uploader.offset < len(photo):
            assert "beeldbank-asset-id" not in last_headers(uploader)
            assert (
                int(head(upload_url(uploader), creative).headers["Upload-Offset"])
                == uploader.offset
            )
    assert offsets == [min(len(photo), (i + 1) * (len(photo) // 4 + 1)) for i in range(4)]
    asset_id = last_headers(uploader)["beeldbank-asset-id"]
    assert asset(server, creative, asset_id)["sha256"] == hashlib.sha256(photo).hexdigest()


@contextmanager
def partial_patch(url: str, account: Account, data: bytes, send: int) -> Iterator[None]:
    """A PATCH for all of `data` that sends only the first `send` bytes; leaving the
    block drops the connection, the way a client that dies or loses its network does."""
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    request_head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: {account.headers['Authorization']}\r\n"
        "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request_head + data[:send])
        # Give the server time to read what was sent: bytes still in its socket buffer
        # when the connection drops never arrived, as far as the upload is concerned.
        time.sleep(0.5)
        yield


def wait_for_offset(url: str, account: Account) -> int:
    """The offset once the server has noticed the dropped connection and saved it."""
    deadline = time.monotonic() + 10
    while (offset := int(head(url, account).headers["Upload-Offset"])) == 0:
        assert time.monotonic() < deadline, "the server did not keep the bytes that arrived"
        time.sleep(0.05)
    return offset


def test_resume_after_connection_cut(server: str, creative: Account, photo: bytes) -> None:
    url = create(server, creative, len(photo))
    half = len(photo) // 2
    with partial_patch(url, creative, photo, half):
        pass
    assert wait_for_offset(url, creative) == half

    resumed = tus_uploader(server, creative, photo, url=url)
    assert resumed.offset == half
    resumed.upload()
    asset_id = last_headers(resumed)["beeldbank-asset-id"]
    body = asset(server, creative, asset_id)
    assert body["sha256"] == hashlib.sha256(photo).hexdigest()
    assert body["status"] == "ready", body["error"]


def test_one_request_writes_an_upload_at_a_time(
    server: str, creative: Account, photo: bytes
) -> None:
    url = create(server, creative, len(photo))
    with partial_patch(url, creative, photo, 1000):
        second = patch(url, creative, photo[:100], 0)
        assert second.status_code == 409
        terminated = requests.delete(url, headers={**creative.headers, **TUS}, timeout=10)
        assert terminated.status_code == 409
    assert wait_for_offset(url, creative) == 1000


def test_cancel_right_after_dropping_a_patch(server: str, creative: Account, photo: bytes) -> None:
    # A cancelling client aborts its PATCH and sends DELETE at once, before the server
    # has finished with the aborted request.
    url = create(server, creative, len(photo))
    with partial_patch(url, creative, photo, 1000):
        pass
    deleted = requests.delete(url, headers={**creative.headers, **TUS}, timeout=10)
    assert deleted.status_code == 204
    assert head(url, creative).status_code == 404


def test_checksum_match_and_mismatch(server: str, creative: Account, photo: bytes) -> None:
    url = create(server, creative, len(photo))
    first = photo[:1000]
    wrong = patch(url, creative, first, 0, **{"Upload-Checksum": sha256_b64(b"something else")})
    assert wrong.status_code == 460
    assert head(url, creative).headers["Upload-Offset"] == "0"
    right = patch(url, creative, first, 0, **{"Upload-Checksum": sha256_b64(first)})
    assert right.status_code == 204
    assert right.headers["Upload-Offset"] == "1000"
    sha1 = patch(
        url,
        creative,
        photo[1000:2000],
        1000,
        **{"Upload-Checksum": "sha1 " + base64.b64encode(b"x" * 20).decode()},
    )
    assert sha1.status_code == 400
    assert head(url, creative).headers["Upload-Offset"] == "1000"


def test_termination(server: str, rt: Runtime, creative: Account, photo: bytes) -> None:
    url = create(server, creative, len(photo))
    assert patch(url, creative, photo[:5000], 0).status_code == 204
    upload_file = tus.upload_path(rt.settings, url.rsplit("/", 1)[1])
    assert upload_file.stat().st_size == 5000
    deleted = requests.delete(url, headers={**creative.headers, **TUS}, timeout=10)
    assert deleted.status_code == 204
    assert head(url, creative).status_code == 404
    assert not upload_file.exists()


def test_expired_uploads_are_removed(
    server: str, rt: Runtime, creative: Account, photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = clock.now()

    def move_clock(hours: float) -> None:
        monkeypatch.setattr(tus, "now", lambda: start + timedelta(hours=hours))

    move_clock(0)
    abandoned = create(server, creative, len(photo))
    active = create(server, creative, len(photo))
    move_clock(rt.settings.upload_expiry_hours - 1)
    # Sending bytes keeps an upload alive: its expiry moves on.
    extended = patch(active, creative, photo[:1000], 0)
    assert extended.status_code == 204
    assert "Upload-Expires" in extended.headers
    move_clock(rt.settings.upload_expiry_hours + 1)
    assert head(abandoned, creative).status_code == 410
    assert tus.expire_uploads(rt) == 1
    assert head(abandoned, creative).status_code == 404
    assert not tus.upload_path(rt.settings, abandoned.rsplit("/", 1)[1]).exists()
    assert head(active, creative).headers["Upload-Offset"] == "1000"


def test_wrong_offset_is_a_conflict(server: str, creative: Account, photo: bytes) -> None:
    url = create(server, creative, len(photo))
    assert patch(url, creative, photo[:100], 0).status_code == 204
    stale = patch(url, creative, photo[:100], 0)
    assert stale.status_code == 409
    assert stale.headers["Upload-Offset"] == "100"
    ahead = patch(url, creative, photo[200:300], 200)
    assert ahead.status_code == 409
    assert head(url, creative).headers["Upload-Offset"] == "100"


def test_wrong_content_type_and_version(server: str, creative: Account, photo: bytes) -> None:
    url = create(server, creative, len(photo))
    plain = patch(url, creative, photo[:100], 0, **{"Content-Type": "application/octet-stream"})
    assert plain.status_code == 415
    old = patch(url, creative, photo[:100], 0, **{"Tus-Resumable": "0.2.2"})
    assert old.status_code == 412
    assert old.headers["Tus-Version"] == "1.0.0"
    assert head(url, creative).headers["Upload-Offset"] == "0"


def test_someone_elses_upload_is_not_found(
    server: str, creative: Account, make_account: Callable[[Role], Account], photo: bytes
) -> None:
    url = create(server, creative, len(photo))
    assert patch(url, creative, photo[:100], 0).status_code == 204
    other = make_account(Role.creative)
    assert head(url, other).status_code == 404
    assert patch(url, other, photo[100:200], 100).status_code == 404
    assert requests.delete(url, headers={**other.headers, **TUS}, timeout=10).status_code == 404
    assert head(url, creative).headers["Upload-Offset"] == "100"


def test_over_the_size_limit(server: str, rt: Runtime, creative: Account, photo: bytes) -> None:
    too_big = requests.post(
        uploads_url(server),
        timeout=10,
        headers={**creative.headers, **TUS, "Upload-Length": str(rt.settings.max_upload_bytes + 1)},
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "too_large"
    # A body longer than the declared length is refused and nothing of it is kept.
    url = create(server, creative, 1000)
    long_body = patch(url, creative, photo[:2000], 0)
    assert long_body.status_code == 413
    assert head(url, creative).headers["Upload-Offset"] == "0"


def test_refuses_a_non_image_at_its_first_bytes(server: str, creative: Account) -> None:
    pdf = b"%PDF-1.7\n" + b"x" * 5000
    url = create(server, creative, len(pdf))
    response = patch(url, creative, pdf[:2000], 0)
    assert response.status_code == 415
    assert "PDF" in response.json()["error"]["message"]
    assert head(url, creative).headers["Upload-Offset"] == "0"


def test_first_bytes_are_sniffed_across_tiny_patches(server: str, creative: Account) -> None:
    pdf = b"%PDF-1.7\n" + b"x" * 5000
    url = create(server, creative, len(pdf))
    assert patch(url, creative, pdf[:4], 0).status_code == 204
    # Too few bytes to tell what the file is until the second PATCH completes its head.
    assert patch(url, creative, pdf[4 : HEAD_BYTES + 100], 4).status_code == 415
    assert head(url, creative).headers["Upload-Offset"] == "4"


def test_creation_with_upload(server: str, creative: Account) -> None:
    data = media.jpeg(seed=21)
    response = requests.post(
        uploads_url(server),
        data=data,
        timeout=30,
        headers={
            **creative.headers,
            **OCTETS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": "filename " + base64.b64encode(b"brug.jpg").decode(),
        },
    )
    assert response.status_code == 201
    assert response.headers["Upload-Offset"] == str(len(data))
    body = asset(server, creative, response.headers["Beeldbank-Asset-Id"])
    assert body["filename"] == "brug.jpg"
    assert body["status"] == "ready", body["error"]


def test_duplicate_content_returns_the_existing_asset(server: str, creative: Account) -> None:
    data = media.jpeg(seed=22)
    multipart = requests.post(
        f"{server}/api/v1/assets",
        headers=creative.headers,
        timeout=30,
        files={"file": ("a.jpg", data, "application/octet-stream")},
    )
    assert multipart.status_code == 201
    url = create(server, creative, len(data))
    response = patch(url, creative, data, 0)
    assert response.status_code == 204
    assert response.headers["Beeldbank-Asset-Id"] == multipart.json()["id"]
    assert response.headers["Beeldbank-Duplicate"] == "true"
