"""File sizes in the reader's language (issue 15): one function writes them (dam/sizes.py),
and a size inside a message stays a number until the message is shown, so an API error,
a page and a failure kept in the database all say "1,5 MB" to a Dutch reader and "1.5 MB"
to an English one."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dam.errors import N_, Message, TooLarge
from dam.models import Asset
from dam.runtime import Runtime
from dam.settings import Settings
from dam.sizes import Size, format_size
from tests.conftest import Account
from tests.ui_client import log_in
from web import catalogs

pytestmark = pytest.mark.one_database

LIMIT = 3 * 1024**2 // 2  # 1.5 MB
NL = {"Accept-Language": "nl-BE,nl;q=0.9"}
EN = {"Accept-Language": "en-GB"}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(max_upload_bytes=LIMIT)


@pytest.mark.parametrize(
    ("size", "nl", "en"),
    [
        (0, "0 B", "0 B"),
        (1023, "1.023 B", "1,023 B"),
        (1024, "1 kB", "1 kB"),
        (1536, "1,5 kB", "1.5 kB"),
        (1_234_567, "1,2 MB", "1.2 MB"),
        (1024**2 - 1, "1 MB", "1 MB"),  # 1023.999 kB rounds up to the next unit
        (20 * 1024**3, "20 GB", "20 GB"),  # the default upload limit, as it is set
        (3 * 1024**5, "3.072 TB", "3,072 TB"),
    ],
)
def test_sizes_are_written_the_languages_way(size: int, nl: str, en: str) -> None:
    assert format_size(size, "nl_BE") == catalogs.size_text(size, "nl") == nl
    assert format_size(size, "en_GB") == catalogs.size_text(size, "en") == str(Size(size)) == en


def test_a_kept_message_keeps_its_size_as_a_number() -> None:
    error = TooLarge(
        N_("The file is larger than the upload limit of %(limit)s."), params={"limit": Size(LIMIT)}
    )
    assert error.message == "The file is larger than the upload limit of 1.5 MB."
    stored = Message.of(error).to_json()
    assert stored["params"] == {"limit": {"bytes": LIMIT}}
    again = Message.from_json(stored)
    assert again is not None and again.params == {"limit": Size(LIMIT)}
    assert catalogs.translate_message("nl", again) == (
        "Het bestand is groter dan de uploadlimiet van 1,5 MB."
    )
    assert catalogs.translate_message("en", again) == (
        "The file is larger than the upload limit of 1.5 MB."
    )


def test_api_errors_and_pages_give_sizes_in_the_readers_language(
    client: TestClient, creative: Account
) -> None:
    tus = {"Tus-Resumable": "1.0.0", "Upload-Length": str(LIMIT + 1)}
    for language, expected in ((NL, "uploadlimiet van 1,5 MB."), (EN, "upload limit of 1.5 MB.")):
        answer = client.post("/api/v1/uploads", headers={**creative.headers, **tus, **language})
        assert answer.status_code == 413
        assert answer.json()["error"]["message"].endswith(expected)
    log_in(client, creative, next_path="/upload")
    assert "Tot 1,5 MB per bestand." in client.get("/upload", headers=NL).text
    assert "Up to 1.5 MB per file." in client.get("/upload", headers=EN).text


def test_a_failure_kept_in_the_database_shows_its_size_in_each_language(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    buffer = io.BytesIO()
    Image.effect_noise((900, 700), 60).convert("RGB").save(buffer, "JPEG", quality=90)
    cut = buffer.getvalue()[:150_000]
    assert len(cut) > 1024 * 100 and round(len(cut) / 1024, 1) % 1  # a size with a decimal
    sent = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("afgebroken.jpg", cut, "image/jpeg")},
    )
    assert sent.status_code == 201, sent.text
    asset_id = sent.json()["id"]
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None and asset.error_message is not None
        assert asset.error_message["params"]["size"] == {"bytes": len(cut)}
    nl, en = format_size(len(cut), "nl_BE"), format_size(len(cut), "en_GB")
    assert nl != en and "," in nl and "." in en
    url = f"/api/v1/assets/{asset_id}"
    dutch = client.get(url, headers={**creative.headers, **NL}).json()["error"]
    english = client.get(url, headers={**creative.headers, **EN}).json()["error"]
    assert dutch.startswith(f"Het bestand is afgebroken na {nl}:"), dutch
    assert english.startswith(f"The file is cut off after {en}:"), english
