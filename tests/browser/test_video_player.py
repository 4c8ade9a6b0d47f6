"""The video player partial in a real browser: it plays the web version (Range requests),
offers the caption tracks, shows storyboard previews on hover and while moving with the
keyboard, and passes axe-core.

The asset page itself belongs to the web UI; this test renders the player partial
(web/templates/video/) into a page of the live server, under its Content-Security-Policy.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from dam import auth
from dam.models import Role
from dam.runtime import Runtime
from tests import video_clips as clips
from tests.browser.conftest import PASSWORD, Person, api_token, assert_accessible, log_in
from tests.video_clips import Clip
from web.api.video_schemas import playback_public
from web.ui.templating import Templates

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nGoedemorgen.\n"


@pytest.fixture(scope="module")
def video_asset(ui_runtime: Runtime, server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    clip = clips.render(Clip("player", size="320x240", seconds=6.0), tmp_path_factory.mktemp("v"))
    email = f"video-{secrets.token_hex(4)}@beeldbank.test"
    with ui_runtime.unit_of_work() as session:
        auth.create_user(session, email=email, password=PASSWORD, role=Role.creative)
    token = api_token(ui_runtime, Person(email, PASSWORD, Role.creative))
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}) as api:
        asset_id = api.post(
            "/api/v1/assets",
            files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")},
            timeout=120,
        ).json()["id"]
        added = api.put(f"/api/v1/assets/{asset_id}/captions/nl", content=VTT.encode())
        assert added.status_code == 201
    return str(asset_id)


def show_player(page: Page, runtime: Runtime, asset_id: str) -> None:
    with runtime.session() as session:
        playback = playback_public(session, asset_id)
    env = Templates(timezone="Europe/Brussels").envs["nl"]
    body = env.get_template("video/player.html").render(playback=playback)
    page.goto("/")  # a page of the server: same origin, same CSP
    page.set_content(
        f'<!doctype html><html lang="nl"><head><title>Video</title></head>'
        f"<body><main><h1>Video</h1>{body}</main></body></html>"
    )


def test_the_player_plays_with_tracks_and_storyboard_previews(
    page: Page, make_person: Callable[..., Person], ui_runtime: Runtime, video_asset: str
) -> None:
    log_in(page, make_person(Role.viewer))
    show_player(page, ui_runtime, video_asset)
    video = page.locator("video")
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=20_000)
    assert video.evaluate("v => Math.round(v.duration)") == 6
    assert video.evaluate("v => v.videoWidth") == 320
    assert video.evaluate("v => [...v.textTracks].map(t => [t.language, t.label])") == [
        ["nl", "Nederlands"]
    ]
    assert (video.get_attribute("poster") or "").endswith("/renditions/poster")

    slider = page.get_by_label("Positie in de video")
    expect(slider).to_be_visible()
    preview = page.locator(".video-scrub-preview")
    box = slider.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    expect(preview).to_be_visible()
    image = page.locator(".video-scrub-image")
    assert "storyboard" in (image.evaluate("e => e.style.backgroundImage") or "")
    assert image.evaluate("e => e.style.backgroundPosition") == "-640px 0px"  # the 5th tile
    expect(page.locator(".video-scrub-time")).to_have_text("0:04")


def test_the_timeline_works_from_the_keyboard(
    page: Page, make_person: Callable[..., Person], ui_runtime: Runtime, video_asset: str
) -> None:
    log_in(page, make_person(Role.viewer))
    show_player(page, ui_runtime, video_asset)
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=20_000)
    slider = page.get_by_label("Positie in de video")
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".video-scrub-preview")).to_be_visible()
    expect(page.locator(".video-scrub-time")).to_have_text("0:03")
    assert page.locator("video").evaluate("v => v.currentTime") == pytest.approx(3, abs=0.01)
    assert slider.get_attribute("aria-valuetext") == "0:03 / 0:06"
    page.keyboard.press("End")
    assert page.locator("video").evaluate("v => v.currentTime") == pytest.approx(6, abs=0.1)
    page.keyboard.press("Escape")
    expect(page.locator(".video-scrub-preview")).to_be_hidden()
    assert_accessible(page)


def test_captions_partial_lists_tracks_for_viewers_without_edit_controls(
    ui_runtime: Runtime, video_asset: str
) -> None:
    with ui_runtime.session() as session:
        playback = playback_public(session, video_asset)
    env = Templates(timezone="Europe/Brussels").envs["en"]
    template = env.get_template("video/captions.html")
    viewer = template.render(playback=playback, csrf_token="t", can=lambda _p: False)
    editor = template.render(playback=playback, csrf_token="t", can=lambda _p: True)
    assert f"/api/v1/assets/{video_asset}/captions/nl?format=srt" in viewer
    assert "data-remove-caption" not in viewer and "data-add-caption" not in viewer
    assert 'data-remove-caption="nl"' in editor and "data-add-caption" in editor
    assert Path(__file__).exists()


def show_captions(page: Page, runtime: Runtime, asset_id: str) -> None:
    page.goto("/")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    with runtime.session() as session:
        playback = playback_public(session, asset_id)
    env = Templates(timezone="Europe/Brussels").envs["en"]
    body = env.get_template("video/captions.html").render(
        playback=playback, csrf_token=token, can=lambda _p: True
    )
    page.set_content(
        f'<!doctype html><html lang="en"><head><title>Captions</title></head>'
        f"<body><main><h1>Video</h1>{body}</main></body></html>"
    )


def test_a_creative_adds_captions_and_sees_problems_by_line(
    page: Page, make_person: Callable[..., Person], ui_runtime: Runtime, video_asset: str
) -> None:
    log_in(page, make_person(Role.creative))
    show_captions(page, ui_runtime, video_asset)
    page.get_by_label("Subtitle file (WebVTT or SRT)").set_input_files(
        files=[{"name": "bad.srt", "mimeType": "text/plain",
                "buffer": b"1\n00:00:05,000 --> 00:00:01,000\nOops\n"}]
    )  # fmt: skip
    page.get_by_label("Language code").fill("en")
    page.get_by_role("button", name="Add subtitles").click()
    # The page is rendered in English here, the API answers in the browser's language.
    expect(page.get_by_role("alert")).to_contain_text(
        "regel 2: de ondertitel eindigt voor hij begint"
    )

    page.get_by_label("Subtitle file (WebVTT or SRT)").set_input_files(
        files=[{"name": "en.srt", "mimeType": "text/plain",
                "buffer": b"1\n00:00:01,000 --> 00:00:02,000\nGood morning\n"}]
    )  # fmt: skip
    page.get_by_label("Name in the player (optional)").fill("English")
    with page.expect_navigation():
        page.get_by_role("button", name="Add subtitles").click()
    with ui_runtime.session() as session:
        languages = {c.language: c.label for c in playback_public(session, video_asset).captions}
    assert languages == {"en": "English", "nl": "Nederlands"}

    show_captions(page, ui_runtime, video_asset)
    with page.expect_navigation():
        page.get_by_role("button", name="Remove English").click()
    with ui_runtime.session() as session:
        assert [c.language for c in playback_public(session, video_asset).captions] == ["nl"]
