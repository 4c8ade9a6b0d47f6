"""Captions and playback over HTTP, on both databases: upload WebVTT or SRT per
language, validation with line numbers, tracks, removal, and downloads with captions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dam.models import Role
from dam.runtime import Runtime
from ingest.video.probe import probe_raw
from tests import media
from tests import video_clips as clips
from tests.conftest import Account
from tests.video_clips import Clip

pytestmark = [pytest.mark.timeout(120), pytest.mark.one_database]

VTT = "WEBVTT\n\n00:00:00.100 --> 00:00:00.900\nGoedemorgen.\n"
SRT = "1\n00:00:00,100 --> 00:00:00,900\nGood <i>morning</i> & welcome.\n"


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("caption-clips")


@pytest.fixture
def video_id(client: TestClient, creative: Account, clip_dir: Path) -> str:
    path = clips.render(Clip("captioned", size="160x120"), clip_dir)
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("clip.mp4", path.read_bytes(), "video/mp4")},
    )
    assert response.status_code == 201
    return str(response.json()["id"])


def upload(
    client: TestClient, account: Account, asset_id: str, language: str, text: str, **query: str
) -> object:
    return client.put(
        f"/api/v1/assets/{asset_id}/captions/{language}",
        headers={**account.headers, "Content-Type": "text/plain"},
        params=query,
        content=text.encode(),
    )


def test_captions_are_added_listed_served_and_removed(
    client: TestClient, creative: Account, video_id: str
) -> None:
    added = upload(client, creative, video_id, "nl", VTT)
    assert added.status_code == 201, added.text  # type: ignore[attr-defined]
    assert added.json()["label"] == "Nederlands"  # type: ignore[attr-defined]
    srt = upload(client, creative, video_id, "EN", SRT, label="English (UK)", kind="captions")
    body = srt.json()  # type: ignore[attr-defined]
    assert (body["language"], body["label"], body["kind"]) == ("en", "English (UK)", "captions")
    assert body["source_format"] == "srt" and body["cues"] == 1

    listed = client.get(f"/api/v1/assets/{video_id}/captions", headers=creative.headers).json()
    assert [c["language"] for c in listed] == ["en", "nl"]
    track = client.get(listed[0]["url"], headers=creative.headers)
    assert track.status_code == 200 and track.headers["content-type"].startswith("text/vtt")
    assert track.text == (
        "WEBVTT\n\n1\n00:00:00.100 --> 00:00:00.900\nGood <i>morning</i> &amp; welcome.\n"
    )
    as_srt = client.get(listed[0]["srt_url"], headers=creative.headers)
    assert as_srt.headers["content-type"].startswith("application/x-subrip")
    assert "attachment" in as_srt.headers["content-disposition"]
    assert "00:00:00,100 --> 00:00:00,900\nGood <i>morning</i> & welcome." in as_srt.text

    replaced = upload(client, creative, video_id, "nl", VTT.replace("Goedemorgen", "Dag"))
    assert replaced.status_code == 200  # type: ignore[attr-defined]
    nl = client.get(f"/api/v1/assets/{video_id}/captions/nl", headers=creative.headers)
    assert "Dag." in nl.text and "Goedemorgen" not in nl.text

    gone = client.delete(f"/api/v1/assets/{video_id}/captions/nl", headers=creative.headers)
    assert gone.status_code == 204
    listed = client.get(f"/api/v1/assets/{video_id}/captions", headers=creative.headers).json()
    assert [c["language"] for c in listed] == ["en"]
    missing = client.get(f"/api/v1/assets/{video_id}/captions/nl", headers=creative.headers)
    assert missing.status_code == 404
    audit = client.get("/api/v1/audit", headers=_officer(client).headers)
    if audit.status_code == 200:
        actions = str(audit.json())
        assert "caption.added" in actions and "caption.removed" in actions


def _officer(client: TestClient) -> Account:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    from dam import auth

    with rt.unit_of_work() as session:
        user = auth.create_user(
            session,
            email="officer@example.test",
            password="correct horse battery",
            role=Role.privacy_officer,
        )
        token = auth.create_token(session, user=user)
    return Account(user, token)


def test_invalid_captions_are_refused_with_line_numbers(
    client: TestClient, creative: Account, video_id: str
) -> None:
    bad = "WEBVTT\n\n00:00:01,000 --> 00:00:02.000\nEen\n\n00:00:05.000 --> 00:00:04.000\nTwee\n"
    response = upload(client, creative, video_id, "nl", bad)
    assert response.status_code == 422  # type: ignore[attr-defined]
    message = response.json()["error"]["message"]  # type: ignore[attr-defined]
    assert "line 3:" in message and "line 6: the cue ends before it starts" in message
    # Each line's problem is a message of its own: whole in the caller's language.
    dutch = client.put(
        f"/api/v1/assets/{video_id}/captions/nl",
        headers={**creative.headers, "Content-Type": "text/plain", "Accept-Language": "nl"},
        content=bad.encode(),
    ).json()["error"]["message"]
    assert dutch.startswith("Het WebVTT-bestand heeft problemen: regel 3: '00:00:01,000' is geen")
    assert dutch.endswith("; regel 6: de ondertitel eindigt voor hij begint."), dutch
    for language, text in (("dutch!", VTT), ("nl", "just some notes")):
        refused = upload(client, creative, video_id, language, text)
        assert refused.status_code == 422  # type: ignore[attr-defined]
    too_big = upload(client, creative, video_id, "nl", "WEBVTT\n\n" + "x" * (3 * 1024 * 1024))
    assert too_big.status_code == 413  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/assets/{video_id}/captions", headers=creative.headers).json() == []


def test_viewers_play_but_cannot_change_captions(
    client: TestClient,
    creative: Account,
    make_account: Callable[[Role], Account],
    video_id: str,
) -> None:
    upload(client, creative, video_id, "nl", VTT)
    viewer = make_account(Role.viewer)
    assert upload(client, viewer, video_id, "fr", VTT).status_code == 403  # type: ignore[attr-defined]
    url = f"/api/v1/assets/{video_id}/captions/nl"
    assert client.delete(url, headers=viewer.headers).status_code == 403
    assert client.get(url, headers=viewer.headers).status_code == 200


def test_playback_lists_everything_a_player_needs(
    client: TestClient, creative: Account, video_id: str
) -> None:
    upload(client, creative, video_id, "nl", VTT)
    play = client.get(f"/api/v1/assets/{video_id}/playback", headers=creative.headers).json()
    assert play["status"] == "ready" and play["duration_s"] == pytest.approx(1.0, abs=0.05)
    assert [s["name"] for s in play["sources"]] == ["web_720"]
    assert play["sources"][0]["mime"] == "video/mp4"
    assert play["poster_url"].endswith("/renditions/poster")
    storyboard = play["storyboard"]
    assert storyboard["image_url"].endswith("/renditions/storyboard")
    vtt = client.get(storyboard["vtt_url"], headers=creative.headers)
    assert vtt.text.startswith("WEBVTT") and "storyboard#xywh=0,0,160,120" in vtt.text
    assert [(c["language"], c["url"]) for c in play["captions"]] == [
        ("nl", f"/api/v1/assets/{video_id}/captions/nl")
    ]
    photo = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("p.jpg", media.jpeg(seed=3), "image/jpeg")},
    ).json()["id"]
    assert (
        client.get(f"/api/v1/assets/{photo}/playback", headers=creative.headers).status_code == 422
    )
    assert upload(client, creative, photo, "nl", VTT).status_code == 422  # type: ignore[attr-defined]


def test_downloads_carry_captions_on_request(
    client: TestClient, creative: Account, video_id: str, tmp_path: Path
) -> None:
    upload(client, creative, video_id, "nl", VTT)
    upload(client, creative, video_id, "en", SRT)
    response = client.get(
        f"/api/v1/assets/{video_id}/captioned/web_720",
        params={"languages": "nl,en"},
        headers=creative.headers,
    )
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    saved = tmp_path / "download.mp4"
    saved.write_bytes(response.content)
    facts = probe_raw(saved, demuxer="mov")
    streams = facts["streams"]
    assert isinstance(streams, list)
    subtitles = [s for s in streams if s["type"] == "subtitle"]
    assert [s["codec"] for s in subtitles] == ["mov_text", "mov_text"]
    assert [s["tags"].get("language") for s in subtitles] == ["dut", "eng"]
    assert [s["type"] for s in streams if s["type"] != "subtitle"] == ["video", "audio"]
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert sorted(p.name for p in rt.blobs.tmp_dir.iterdir()) == []  # the copy was removed
    unknown = client.get(
        f"/api/v1/assets/{video_id}/captioned/web_720",
        params={"languages": "fr"},
        headers=creative.headers,
    )
    assert unknown.status_code == 404
