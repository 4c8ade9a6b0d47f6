"""The download control on the asset page and the library grid, over TestClient on both
databases: reasons instead of a link that answers 409, the redacted version and a review
request, the remembered channel, the crop form; heads kept in the grid; videos with their
poster, icon and duration."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam import clock
from dam.models import (
    Asset,
    AssetKind,
    AssetStatus,
    AuditEntry,
    Face,
    FaceState,
    LicenceStatus,
    Notification,
    Rendition,
)
from dam.runtime import Runtime
from ingest.video.captions import add_caption
from tests import media, video_clips
from tests.conftest import Account
from tests.privacy_setup import upload
from tests.ui_client import log_in

pytestmark = pytest.mark.one_database

BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"


def _photo(client: TestClient, creative: Account) -> dict[str, Any]:
    return upload(client, creative, "veld.jpg", media.jpeg(900, 600, seed=3), "image/jpeg")


def test_a_cleared_photo_offers_presets_and_goes_through_to_the_file(
    client: TestClient, creative: Account
) -> None:
    asset = _photo(client, creative)
    log_in(client, creative)
    page = client.get(f"/assets/{asset['id']}?download_channel=intranet").text
    assert 'id="download-heading"' in page
    assert "Formaat en vorm" in page and "Vierkant (1080 × 1080)" in page
    shapes = page[page.index('id="crop-preset"') :][:800]
    assert "Banner (1920 × 600)</option>" in shapes  # the crop editor's shapes say sizes too
    assert "Waar wordt dit gepubliceerd? (optioneel)" in page
    assert "Vraag een controle aan" not in page  # cleared: nothing to review
    go = client.get(
        f"/assets/{asset['id']}/download",
        params={
            "channel": "intranet",
            "preset": "square",
            "format": "webp",
            "usage": "nieuwsbrief",
        },
        follow_redirects=False,
    )
    assert go.status_code == 303
    target = go.headers["location"]
    assert target.startswith(f"/api/v1/assets/{asset['id']}/download?")
    got = client.get(target)
    assert got.status_code == 200 and got.headers["content-type"] == "image/webp"
    # Refused for the website (no alt text): the reasons say what stands in the way, not
    # "Geen personen gedetecteerd", in the control and in the API's 409.
    refused = client.get(f"/assets/{asset['id']}?download_channel=website").text
    control = refused[refused.index('id="download-heading"') :]
    assert "Alternatieve tekst ontbreekt" in control
    assert "Geen personen gedetecteerd" not in control
    api = client.get(
        f"/api/v1/assets/{asset['id']}/download?channel=website", headers=creative.headers
    ).json()["error"]
    assert [r["code"] for r in api["reasons"]] == ["alt_text_missing"]
    assert "No people" not in api["message"]
    # The channel is remembered: the page opens on it next time.
    again = client.get(f"/assets/{asset['id']}").text
    assert re.search(r'<option value="intranet" selected>', again)
    # A bad custom size goes back with a message, not to an error body.
    bad = client.get(
        f"/assets/{asset['id']}/download",
        params={"channel": "intranet", "preset": "custom", "width": "5"},
        follow_redirects=False,
    )
    assert bad.status_code == 303 and bad.headers["location"].startswith(f"/assets/{asset['id']}")


def test_not_cleared_shows_the_reasons_the_blurred_version_and_a_review_request(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset = _photo(client, creative)
    with rt.unit_of_work() as session:
        session.add(
            Face(
                asset_id=asset["id"],
                box_x=0.4,
                box_y=0.2,
                box_w=0.1,
                box_h=0.15,
                score=0.99,
                detector="test",
                state=FaceState.unknown,
            )
        )
    log_in(client, creative)
    page = client.get(f"/assets/{asset['id']}?download_channel=intranet").text
    assert "Niet vrijgegeven voor" in page
    assert "Versie met vervaagde gezichten downloaden" in page
    assert 'name="redact" value="true"' in page
    assert "Vraag een controle aan" in page
    # No control on the page leads straight to a file that would be refused.
    assert f"/api/v1/assets/{asset['id']}/download" not in page
    assert f'/api/v1/assets/{asset["id"]}/renditions/large"' not in page.replace("data-large=", "")
    refused = client.get(
        f"/assets/{asset['id']}/download",
        params={"channel": "intranet", "preset": "web"},
        follow_redirects=False,
    )
    assert refused.status_code == 303 and "/api/" not in refused.headers["location"]
    blurred = client.get(
        f"/assets/{asset['id']}/download",
        params={"channel": "intranet", "preset": "web", "redact": "true"},
    )
    assert blurred.status_code == 200 and blurred.headers["content-type"] == "image/jpeg"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    asked = client.post(
        f"/assets/{asset['id']}/review-request",
        data={"channel": "intranet", "csrf_token": token[1]},
    )
    assert asked.status_code == 200
    assert "De privacyverantwoordelijken zijn gevraagd dit beeld te controleren." in asked.text
    with rt.session() as session:
        kinds = [n.kind for n in session.exec(select(Notification))]
    assert kinds == ["asset.review_requested"]


def test_the_crop_form_saves_a_crop(client: TestClient, creative: Account) -> None:
    asset = _photo(client, creative)
    token = log_in(client, creative)
    saved = client.post(
        f"/assets/{asset['id']}/frame",
        data={"preset": "square", "x": "10", "y": "0", "w": "50", "h": "100", "csrf_token": token},
    )
    assert "De uitsnede is bewaard." in saved.text
    crops = client.get(f"/api/v1/assets/{asset['id']}/crops", headers=creative.headers).json()
    square = next(c for c in crops if c["preset"] == "square")
    assert square["source"] == "saved" and abs(square["x"] - 0.1) < 0.2
    wrong = client.post(
        f"/assets/{asset['id']}/frame",
        data={"preset": "square", "x": "90", "y": "0", "w": "50", "h": "100", "csrf_token": token},
    )
    assert "binnen het beeld liggen" in wrong.text


def test_the_grid_keeps_heads_and_shows_videos(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    with rt.unit_of_work() as session:
        standing = Asset(
            kind=AssetKind.image,
            status=AssetStatus.ready,
            filename="staand.jpg",
            mime="image/jpeg",
            size=1,
            sha256=secrets.token_hex(32),
            width=1000,
            height=1500,
            title="Staande man",
            blurhash=BLURHASH,
            faces_checked_at=clock.now(),
        )
        clip = Asset(
            kind=AssetKind.video,
            status=AssetStatus.ready,
            filename="clip.mp4",
            mime="video/mp4",
            size=1,
            sha256=secrets.token_hex(32),
            width=1280,
            height=720,
            duration_s=83.4,
            title="Een clip",
            faces_checked_at=clock.now(),
        )
        session.add_all([standing, clip])
        session.flush()
        session.add(
            Face(
                asset_id=standing.id,
                box_x=0.42,
                box_y=0.04,
                box_w=0.16,
                box_h=0.1,
                score=0.99,
                detector="test",
            )
        )
        ids = (standing.id, clip.id)
    log_in(client, creative)
    page = client.get("/").text
    card = page[page.index(f"/api/v1/assets/{ids[0]}/renditions/thumb") :][:300]
    assert 'class="fy-0"' in card  # the head at the top, not the middle
    video = page[page.index(f"/api/v1/assets/{ids[1]}/renditions/thumb") :][:600]
    assert 'class="card-video"' in video and "1:23" in video
    assert '<span class="visually-hidden">Video, </span>' in video


def test_a_library_selection_leaves_as_a_zip_with_a_progress_page(
    client: TestClient, creative: Account
) -> None:
    first = _photo(client, creative)
    second = upload(client, creative, "bos.jpg", media.jpeg(640, 480, seed=9), "image/jpeg")
    token = log_in(client, creative)
    library = client.get("/").text
    assert "Downloaden als ZIP" in library and 'formaction="/downloads/zip"' in library
    assert "Banner (1920 × 600)</option>" in library  # its size, as on the asset page
    asked = client.post(
        "/downloads/zip",
        data={
            "ids": [first["id"], second["id"]],
            "zip_channel": "intranet",
            "zip_preset": "square",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303 and asked.headers["location"].startswith("/downloads/")
    page = client.get(asked.headers["location"]).text
    assert "2 beelden voor" in page and "De ZIP is klaar." in page
    assert '<progress id="zip-bar" max="100" value="100">' in page
    assert page.count(">toegevoegd<") == 2
    link = re.search(r'href="(/api/v1/downloads/[^"]+/file)"', page)
    assert link
    got = client.get(link[1])
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    none = client.post("/downloads/zip", data={"zip_channel": "intranet", "csrf_token": token})
    assert "Selecteer eerst een of meer bestanden." in none.text


def test_a_720p_video_offers_only_its_own_web_version_and_web_1080_is_not_a_409(
    client: TestClient, rt: Runtime, creative: Account, tmp_path: Path
) -> None:
    """A 720p video has no web_1080 file: the form does not offer it, and a download that
    asks for it (an old link, the API) gets the 720p file, with or without captions,
    instead of 409 `not_cleared` for a video that is cleared."""
    clip = video_clips.render(video_clips.Clip("web720", size="160x120", seconds=1.0), tmp_path)
    with rt.unit_of_work() as session:
        stored = rt.blobs.put_stream([clip.read_bytes(), secrets.token_bytes(16)])
        video = Asset(
            kind=AssetKind.video,
            status=AssetStatus.ready,
            filename="clip.mp4",
            mime="video/mp4",
            size=stored.size,
            sha256=stored.sha256,
            width=1280,
            height=720,
            duration_s=1.0,
            title="Een clip",
            alt_text="Een testbeeld",
            licence_status=LicenceStatus.own,
            owner_id=creative.user.id,
            faces_checked_at=clock.now(),
        )
        session.add(video)
        session.flush()
        derived = rt.blobs.derived_dir(video.id)
        derived.mkdir(parents=True)
        shutil.copyfile(clip, derived / "web_720.mp4")
        session.add(
            Rendition(
                asset_id=video.id,
                name="web_720",
                mime="video/mp4",
                width=1280,
                height=720,
                size=clip.stat().st_size,
                sha256=secrets.token_hex(32),
                path=str((derived / "web_720.mp4").relative_to(rt.blobs.root)),
            )
        )
        session.flush()
        add_caption(
            session,
            asset_id=video.id,
            language="nl",
            data=b"WEBVTT\n\n00:00:00.000 --> 00:00:00.900\nHallo\n",
            actor=creative.user,
        )
        video_id = video.id
    log_in(client, creative)
    page = client.get(f"/assets/{video_id}?download_channel=intranet").text
    form = page[page.index('id="download-preset"') :][:400]
    assert 'value="web_720"' in form and 'value="web_1080"' not in form
    go = client.get(
        f"/assets/{video_id}/download",
        params={"channel": "intranet", "preset": "web_1080"},
        follow_redirects=False,
    )
    assert go.status_code == 303 and "preset=web_720" in go.headers["location"]
    for query in ("preset=web_1080", "preset=web_1080&captions=", "captions=nl"):
        got = client.get(
            f"/api/v1/assets/{video_id}/download?channel=intranet&{query}",
            headers=creative.headers,
        )
        assert got.status_code == 200, (query, got.text)
        assert got.headers["content-type"] == "video/mp4"
    # The audit names the version that left, captions or not.
    with rt.session() as session:
        entries = session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "asset.downloaded", AuditEntry.subject_id == video_id
            )
        ).all()
    assert [(e.details["rendition"], bool(e.details.get("captions"))) for e in entries] == [
        ("web_720", False),
        ("web_720", True),
        ("web_720", True),
    ]
