"""Stored failures in the reader's language (issue 15): why a photo or video failed, a job's
error and a ZIP's are kept as message ids with their values (dam/messages.py), so the asset
page, the library grid, the job table and the API show them in Dutch to a Dutch reader and
in English to an English one. Rows from before (only English text) still show."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam import clock
from dam.errors import Message
from dam.messages import record_failure
from dam.models import Asset, AssetStatus, DownloadBatch, Job, User
from dam.runtime import Runtime
from dam.sizes import format_size
from gdpr.publishing.download_packing import PACKING_FAILED
from ingest.video import cues
from tests import media
from tests import video_clips as clips
from tests.conftest import Account
from tests.corpus import message_problem
from tests.ui_client import log_in
from tests.video_clips import Clip
from web import catalogs

pytestmark = pytest.mark.one_database

DUTCH = {"Accept-Language": "nl-BE,nl;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB"}


def _upload(client: TestClient, account: Account, data: bytes, name: str, mime: str) -> str:
    response = client.post(
        "/api/v1/assets", headers=account.headers, files={"file": (name, data, mime)}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _speaks(rt: Runtime, account: Account, locale: str | None) -> None:
    with rt.unit_of_work() as session:
        user = session.get(User, account.user.id)
        assert user is not None
        user.locale = locale


def _asset_page(client: TestClient, rt: Runtime, account: Account, locale: str, url: str) -> str:
    _speaks(rt, account, locale)
    log_in(client, account)
    page = client.get(url)
    assert page.status_code == 200
    return page.text


def _cut_jpeg(client: TestClient, account: Account, seed: int = 151) -> str:
    data = media.jpeg(1200, 900, seed=seed)
    return _upload(client, account, data[: len(data) // 2], "cut.jpg", "image/jpeg")


def test_a_cut_off_photo_fails_in_the_readers_language(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = _cut_jpeg(client, creative)
    with rt.session() as session:
        row = session.get(Asset, asset_id)
        assert row is not None and row.status == AssetStatus.failed
        stored = row.error_message
    assert stored is not None and stored["params"]["label"] == "JPEG"
    assert str(stored["id"]).startswith("The file is cut off after %(size)s")
    size = stored["params"]["size"]["bytes"]  # a Size: written in the reader's language
    english = f"The file is cut off after {format_size(size)}: the JPEG data ends early."
    dutch = (
        f"Het bestand is afgebroken na {format_size(size, 'nl_BE')}: "
        "de JPEG-gegevens stoppen te vroeg."
    )

    # The API: in the caller's language; English for a client that says none (API.md).
    url = f"/api/v1/assets/{asset_id}"
    assert client.get(url, headers={**creative.headers, **DUTCH}).json()["error"].startswith(dutch)
    in_english = client.get(url, headers={**creative.headers, **ENGLISH}).json()["error"]
    assert in_english.startswith(english) and message_problem(in_english) is None
    assert client.get(url, headers=creative.headers).json()["error"] == in_english
    jobs = client.get(f"/api/v1/jobs?asset_id={asset_id}", headers={**creative.headers, **DUTCH})
    failed = [j for j in jobs.json() if j["status"] == "failed"]
    assert [j["stage"] for j in failed] == ["renditions"]
    assert failed[0]["error"].startswith(dutch)

    # The asset page: the message and the job table, whole in the reader's language.
    page = _asset_page(client, rt, creative, "nl", f"/assets/{asset_id}")
    assert f"Verwerking mislukt: {dutch}" in page
    assert page.count(dutch) == 2  # above the preview and in the processing table
    assert "cut off" not in page
    page = _asset_page(client, rt, creative, "en", f"/assets/{asset_id}")
    assert f"Processing failed: {english}" in page
    assert "afgebroken" not in page

    # The library grid says why on its badge.
    grid = client.get("/").text
    assert f'title="{english}' in grid


def test_a_video_whose_probe_fails_says_why_in_the_readers_language(
    client: TestClient, rt: Runtime, creative: Account, tmp_path: Path
) -> None:
    data = clips.render(Clip("failmsg", seconds=1.0), tmp_path).read_bytes()
    # Cut before its index (moov comes last): the probe cannot open it.
    asset_id = _upload(client, creative, data[: len(data) * 6 // 10], "cut.mp4", "video/mp4")
    url = f"/api/v1/assets/{asset_id}"
    english = client.get(url, headers={**creative.headers, **ENGLISH}).json()
    assert english["status"] == "failed"
    assert english["error"].startswith("The file could not be read as MP4 video: its index")
    dutch = client.get(url, headers={**creative.headers, **DUTCH}).json()["error"]
    # The reason inside the sentence is a message of its own, translated with it.
    assert dutch.startswith("Het bestand kon niet gelezen worden als MP4-video: de index")
    assert "moov-atoom" in dutch and "missing" not in dutch

    page = _asset_page(client, rt, creative, "nl", f"/assets/{asset_id}")
    assert f"Verwerking mislukt: {dutch}" in page
    page = _asset_page(client, rt, creative, "en", f"/assets/{asset_id}")
    assert f"Processing failed: {english['error']}" in page


def test_failures_stored_before_their_message_ids_still_show(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    """A row from before migration 0022 has only its English text: shown as it is, and in
    Dutch when that text is a message the catalogs know (one without values)."""
    known = "The video has no length: it holds at most one picture."
    unknown = "Processing stopped with an unexpected error in the renditions stage."
    ids = [_cut_jpeg(client, creative, seed) for seed in (152, 153)]
    with rt.unit_of_work() as session:
        for asset_id, text in zip(ids, (known, unknown), strict=True):
            row = session.get(Asset, asset_id)
            assert row is not None
            row.error, row.error_message = text, None
            for job in session.exec(select(Job).where(Job.asset_id == asset_id)):
                if job.error:
                    job.error, job.error_message = text, None
    url = "/api/v1/assets/{}"
    headers = {**creative.headers, **DUTCH}
    assert client.get(url.format(ids[0]), headers=headers).json()["error"] == (
        "De video heeft geen lengte: hij bevat hoogstens één beeld."
    )
    assert client.get(url.format(ids[1]), headers=headers).json()["error"] == unknown
    page = _asset_page(client, rt, creative, "nl", f"/assets/{ids[1]}")
    assert f"Verwerking mislukt: {unknown}" in page


def test_a_failed_zip_says_why_in_the_readers_language(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    with rt.unit_of_work() as session:
        batch = DownloadBatch(
            user_id=creative.user.id,
            channel="website",
            preset="web",
            asset_ids=["a"],
            total=1,
            status="failed",
            expires_at=clock.now() + timedelta(days=1),
        )
        record_failure(batch, Message(PACKING_FAILED))
        session.add(batch)
        batch_id = batch.id
    url = f"/api/v1/downloads/{batch_id}"
    dutch = client.get(url, headers={**creative.headers, **DUTCH}).json()["error"]
    assert dutch.startswith("Er ging iets mis op de server bij het inpakken.")
    english = client.get(url, headers={**creative.headers, **ENGLISH}).json()["error"]
    assert english == PACKING_FAILED
    # Its file: the same reason, as the error of the 409.
    refused = client.get(f"{url}/file", headers={**creative.headers, **DUTCH})
    assert refused.status_code == 409 and refused.json()["error"]["message"] == dutch

    page = _asset_page(client, rt, creative, "nl", f"/downloads/{batch_id}")
    assert f"De ZIP kon niet gemaakt worden. {dutch}" in page


def test_a_message_survives_its_trip_through_json() -> None:
    counted = Message(("%(num)s file", "%(num)s files"), {"num": 2, "where": Path("/x")})
    again = Message.from_json(counted.to_json())
    assert again == Message(("%(num)s file", "%(num)s files"), {"num": 2, "where": "/x"})
    assert again.english == "2 files"
    for junk in (None, "text", {"id": ""}, {"id": 3}, {"id": ["a"]}):
        assert Message.from_json(junk) is None
    # Messages inside a message (a file's problems, line by line) keep their own values.
    line = Message(cues.LINE, {"line": 6, "problem": Message(cues.ENDS_BEFORE_START)})
    sentence = "The %(kind)s file has problems: %(problems)s."
    nested = Message(sentence, {"kind": "SRT", "problems": [line]})
    assert Message.from_json(nested.to_json()) == nested
    assert nested.english == "The SRT file has problems: line 6: the cue ends before it starts."
    assert catalogs.translate_message("nl", Message.from_json(nested.to_json())) == (
        "Het SRT-bestand heeft problemen: regel 6: de ondertitel eindigt voor hij begint."
    )
