"""Hostile input: playlists disguised as videos must never make ffmpeg reach beyond the
uploaded file (no other local files, no URLs), and must end refused or failed with
nothing of what they point at in a rendition, an error or a log."""

from __future__ import annotations

import http.server
import logging
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from dam.errors import ProcessingError
from dam.models import AssetStatus
from dam.runtime import Runtime
from ingest.video import commands, process
from ingest.video.formats import DEMUXERS
from ingest.video.probe import probe, probe_raw
from tests import video_clips as clips
from tests.conftest import Account

pytestmark = [pytest.mark.timeout(120), pytest.mark.one_database]

PASSWD_LINE = "root:x:0:0"


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def outside_url() -> Iterator[str]:
    """A web server standing in for the outside world; it records every request."""
    Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    token = f"SECRET-{secrets.token_hex(16)}"
    path = tmp_path / "secret.ts"  # an extension HLS accepts for segments
    path.write_text(token * 50)
    return path, token


def playlist(url: str, secret: Path) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10.0,\n{url}/segment.ts\n"
        f"#EXTINF:10.0,\nfile://{secret}\n"
        "#EXTINF:10.0,\nfile:///etc/passwd\n"
        "#EXT-X-ENDLIST\n"
    ).encode()


def playlist_in_avi(body: bytes) -> bytes:
    """An AVI's first bytes (so sniffing says AVI) carrying an HLS playlist."""
    hdrl = b"LIST" + (4 + len(body)).to_bytes(4, "little") + b"hdrl" + body
    return b"RIFF" + (4 + len(hdrl)).to_bytes(4, "little") + b"AVI " + hdrl


def test_naive_ffmpeg_would_follow_this_playlist(
    tmp_path: Path, outside_url: str, secret_file: tuple[Path, str]
) -> None:
    """The control: without Beeldbank's options, ffmpeg parses the file as an HLS playlist
    and goes after its segments. (Recent ffmpeg itself refuses some of them, such as http
    segments of a local playlist or segment names without a media extension, so no
    request arrives here; that it reads the entries at all is what this shows.)"""
    path = tmp_path / "evil.m3u8"
    path.write_bytes(playlist(outside_url, secret_file[0]))
    naive = subprocess.run(
        [clips.ffmpeg(), "-hide_banner", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "file:///etc/passwd" in naive.stderr and "segment" in naive.stderr, naive.stderr


@pytest.mark.parametrize("demuxer", sorted(set(DEMUXERS.values())))
def test_hardened_probe_and_transcode_never_follow_a_playlist(
    tmp_path: Path,
    outside_url: str,
    secret_file: tuple[Path, str],
    demuxer: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Even named .m3u8, the name most in the attacker's favour, and with sniffing bypassed.
    path = tmp_path / "evil.m3u8"
    path.write_bytes(playlist(outside_url, secret_file[0]))
    raw = probe_raw(path, demuxer=demuxer)
    # A raw stream reader (mpegvideo) always has its one stream, but no picture in it.
    assert raw.get("error") or not raw.get("streams") or not raw["scan"].get("first_frame")
    output = tmp_path / "out.mp4"
    info_like = _any_video_info()
    args = commands.web_renditions_command(
        clips.ffmpeg(), path, demuxer=demuxer, info=info_like,
        outputs=[commands.WebOutput(_spec(), output)], loudness=None,
    )  # fmt: skip
    job = process.Run(args=args, time_limit_s=60, stderr_lines=50)
    with pytest.raises(process.FfmpegFailed):
        process.run(job)
    for entry in ("segment", "passwd", outside_url, str(secret_file[0])):
        assert entry not in job.stderr, job.stderr
    assert Recorder.hits == []
    assert not output.exists() or secret_file[1].encode() not in output.read_bytes()
    assert secret_file[1] not in caplog.text and PASSWD_LINE not in caplog.text


def test_a_playlist_renamed_mp4_is_refused_at_upload(
    client: TestClient, creative: Account, outside_url: str, secret_file: tuple[Path, str]
) -> None:
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("holiday.mp4", playlist(outside_url, secret_file[0]), "video/mp4")},
    )
    assert response.status_code == 415
    assert "playlist" in response.json()["error"]["message"]
    listed = client.get("/api/v1/assets", headers=creative.headers).json()
    assert listed["total"] == 0
    assert Recorder.hits == []


def test_an_hls_playlist_inside_an_avi_ends_as_a_failed_asset(
    rt: Runtime,
    client: TestClient,
    creative: Account,
    outside_url: str,
    secret_file: tuple[Path, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    crafted = playlist_in_avi(playlist(outside_url, secret_file[0]))
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("clip.avi", crafted, "video/x-msvideo")},
    )
    assert response.status_code == 201, response.text
    asset_id = response.json()["id"]
    body = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
    assert body["kind"] == "video" and body["status"] == AssetStatus.failed
    assert body["error"] and "AVI" in body["error"]
    assert [r["name"] for r in body["renditions"]] == []
    jobs = client.get("/api/v1/jobs", params={"asset_id": asset_id}, headers=creative.headers)
    everything = response.text + str(body) + jobs.text + caplog.text
    assert secret_file[1] not in everything and PASSWD_LINE not in everything
    assert Recorder.hits == []
    assert clips.leftovers(rt) == []
    derived = rt.blobs.derived_dir(asset_id)
    assert not derived.exists() or list(derived.iterdir()) == []


def test_probe_refuses_the_playlist_as_any_accepted_container(
    tmp_path: Path, outside_url: str, secret_file: tuple[Path, str]
) -> None:
    path = tmp_path / "evil.mp4"
    path.write_bytes(playlist(outside_url, secret_file[0]))
    for label in DEMUXERS:
        with pytest.raises(ProcessingError) as refused:
            probe(path, label=label)
        assert secret_file[1] not in refused.value.message
    assert Recorder.hits == []


def _spec():  # type: ignore[no-untyped-def]
    from ingest.video.ladder import WebRendition

    return WebRendition("web_720", 1280, 720, 320, 240, 4000, 128, 2)


def _any_video_info():  # type: ignore[no-untyped-def]
    """What a probe might have said had it been fooled: a plain clip with sound."""
    from ingest.video.info import video_info
    from tests.test_video_pure import raw_facts

    return video_info(raw_facts(), label="MP4")
