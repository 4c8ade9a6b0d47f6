"""The asset page in a real browser: a video plays there with its captions and storyboard
previews; face boxes sit on the faces found in a real photo, lead to their entries, name
people only for roles that may see them, and are confirmed and dismissed with the
keyboard; axe-core finds nothing in Dutch or English, at desktop and phone width."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from dam import auth
from dam.models import Face, Role
from dam.runtime import Runtime
from tests import faces_corpus
from tests import video_clips as clips
from tests.browser.conftest import (
    PASSWORD,
    Person,
    api_token,
    assert_accessible,
    log_in,
    screenshot,
)
from tests.video_clips import Clip

LOCALES = {"nl": "nl-BE", "en": "en-GB"}
LOADED = "(p => p.complete && p.naturalWidth > 0)(document.getElementById('preview'))"
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nGoedemorgen.\n"


def wait_until(page: Page, expression: str, *, timeout_s: float = 20) -> None:
    """Poll `expression` until it is true. (page.wait_for_function compiles its predicate
    in the page, which the strict Content-Security-Policy rightly refuses.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {expression}"
        time.sleep(0.1)


def creative_api(runtime: Runtime, server: str) -> httpx.Client:
    email = f"asset-page-{secrets.token_hex(4)}@beeldbank.test"
    with runtime.unit_of_work() as session:
        auth.create_user(session, email=email, password=PASSWORD, role=Role.creative)
    token = api_token(runtime, Person(email, PASSWORD, Role.creative))
    return httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=180)


@pytest.fixture(scope="module")
def video_asset(ui_runtime: Runtime, server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    clip = clips.render(
        # Not the player test's clip: the same content would be the same asset.
        Clip("asset-page", size="320x180", seconds=6.0),
        tmp_path_factory.mktemp("v"),
    )
    with creative_api(ui_runtime, server) as api:
        asset_id = api.post(
            "/api/v1/assets", files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")}
        ).json()["id"]
        added = api.put(f"/api/v1/assets/{asset_id}/captions/nl", content=VTT.encode())
        assert added.status_code == 201
    # A face track, as the video faces stage stores one (a test pattern has no faces).
    with ui_runtime.unit_of_work() as session:
        session.add(
            Face(asset_id=asset_id, box_x=0.4, box_y=0.3, box_w=0.2, box_h=0.3, score=0.9,
                 detector="test", time_s=2.0, time_end_s=4.0, frames=3)
        )  # fmt: skip
    return str(asset_id)


def group_photo(name: str) -> Path:
    try:
        return faces_corpus.dlib_examples() / "faces" / name
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))


def upload_photo(runtime: Runtime, server: str, path: Path) -> str:
    """A real group photo through the whole pipeline (faces detected on the way)."""
    with creative_api(runtime, server) as api:
        response = api.post(
            "/api/v1/assets",
            files={"file": (path.name, path.read_bytes(), "image/jpeg")},
            data={"alt_text": "Een groep mensen"},
        )
        assert response.status_code in (200, 201), response.text
        asset_id = str(response.json()["id"])
        assert api.get(f"/api/v1/assets/{asset_id}").json()["status"] == "ready"
    return asset_id


def faces_of(runtime: Runtime, asset_id: str) -> list[Face]:
    with runtime.session() as session:
        return list(session.exec(select(Face).where(Face.asset_id == asset_id)))


@pytest.fixture(scope="module")
def photo_asset(ui_runtime: Runtime, server: str) -> str:
    asset_id = upload_photo(ui_runtime, server, group_photo("2008_001322.jpg"))
    assert len(faces_of(ui_runtime, asset_id)) >= 2
    return asset_id


@pytest.mark.parametrize("lang", LOCALES)
def test_a_video_plays_on_its_page_with_captions_and_previews(
    browser: Browser,
    server: str,
    make_person: Callable[..., Person],
    video_asset: str,
    lang: str,
) -> None:
    context = browser.new_context(base_url=server, locale=LOCALES[lang])
    page = context.new_page()
    log_in(page, make_person(Role.creative))
    page.goto(f"/assets/{video_asset}")
    video = page.locator("video")
    wait_until(page, "document.querySelector('video').readyState >= 1")
    assert video.evaluate("v => [...v.textTracks].map(t => [t.language, t.label])") == [
        ["nl", "Nederlands"]
    ]
    assert page.locator("#preview").count() == 0  # the player replaces the still
    video.evaluate("v => { v.muted = true; return v.play(); }")
    wait_until(page, "document.querySelector('video').currentTime > 0.3")
    video.evaluate("v => v.pause()")

    slider = page.get_by_label("Positie in de video" if lang == "nl" else "Position in the video")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    expect(page.locator(".video-scrub-preview")).to_be_visible()
    image = page.locator(".video-scrub-image")
    assert "storyboard" in (image.evaluate("e => e.style.backgroundImage") or "")
    page.mouse.move(0, 0)
    expect(page.get_by_role("heading", name="Ondertitels" if lang == "nl" else "Subtitles"))
    page.wait_for_load_state("networkidle")
    assert_accessible(page)
    screenshot(page, "asset-video")
    context.close()


def test_play_from_where_a_face_is_seen(
    page: Page, make_person: Callable[..., Person], video_asset: str
) -> None:
    log_in(page, make_person(Role.creative))
    page.goto(f"/assets/{video_asset}")
    wait_until(page, "document.querySelector('video').readyState >= 1")
    page.get_by_role("tab", name="Personen").click()  # the faces are the page's People part
    entry = page.locator(".face-item")
    expect(entry).to_contain_text("Gezicht 1: onbekend")
    expect(entry).to_contain_text("Te zien op 0:02–0:04")
    entry.get_by_role("button", name="Speel vanaf hier (0:02–0:04)").click()
    wait_until(page, "Math.abs(document.querySelector('video').currentTime - 2) < 0.1")


def test_the_video_page_fits_a_phone(
    browser: Browser, server: str, make_person: Callable[..., Person], video_asset: str
) -> None:
    context = browser.new_context(
        base_url=server, locale="nl-BE", viewport={"width": 360, "height": 740}
    )
    page = context.new_page()
    log_in(page, make_person(Role.creative))
    page.goto(f"/assets/{video_asset}")
    wait_until(page, "document.querySelector('video').readyState >= 1")
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the video page scrolls sideways by {overflow}px at phone width"
    video_box = page.locator("video").bounding_box()
    assert video_box is not None and video_box["width"] <= 360
    assert_accessible(page)
    screenshot(page, "asset-video-phone")
    context.close()


def box_positions(page: Page) -> list[tuple[float, float, float, float]]:
    """Each face box (its drawn rectangle) relative to the picture, as shares of it."""
    picture = page.locator("#preview").bounding_box()
    assert picture is not None
    out = []
    for rect in page.locator(".face-box .face-line").all():
        b = rect.bounding_box()
        assert b is not None
        out.append(
            (
                (b["x"] - picture["x"]) / picture["width"],
                (b["y"] - picture["y"]) / picture["height"],
                b["width"] / picture["width"],
                b["height"] / picture["height"],
            )
        )
    return out


@pytest.mark.parametrize("lang", LOCALES)
def test_face_boxes_sit_on_the_faces_and_lead_to_their_entries(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    photo_asset: str,
    lang: str,
) -> None:
    context = browser.new_context(base_url=server, locale=LOCALES[lang])
    page = context.new_page()
    log_in(page, make_person(Role.creative))
    page.goto(f"/assets/{photo_asset}")
    wait_until(page, LOADED)
    faces = faces_of(ui_runtime, photo_asset)
    expected = sorted((f.box_x, f.box_y, f.box_w, f.box_h) for f in faces)
    # The stroke is centred on the edge: the drawn box is a pixel or two larger.
    tolerance = 3 / (page.locator("#preview").bounding_box() or {"width": 100})["width"]
    for shown, wanted in zip(sorted(box_positions(page)), expected, strict=True):
        assert shown == pytest.approx(wanted, abs=tolerance)

    word = "Gezicht" if lang == "nl" else "Face"
    unknown = "onbekend" if lang == "nl" else "unknown"
    first = page.get_by_role("link", name=f"{word} 1: {unknown}")
    expect(first).to_be_visible()
    # Keyboard: the boxes are in the tab order; Enter goes to the face's entry.
    page.locator("#zoom-frame").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        f"{word} 1: {unknown}"
    )
    page.keyboard.press("Enter")
    target = page.locator(".face-item:target")
    expect(target).to_have_count(1)
    expect(target.locator(".face-number")).to_have_text("1")
    expect(target.locator("img.face-crop")).to_be_visible()  # the crop, through the API

    # Zoomed in, the boxes grow with the picture.
    page.locator("#zoom-toggle").click()
    expect(page.locator("#zoom-toggle")).to_have_attribute("aria-pressed", "true")
    wait_until(page, LOADED)
    tolerance = 3 / (page.locator("#preview").bounding_box() or {"width": 100})["width"]
    for shown, wanted in zip(sorted(box_positions(page)), expected, strict=True):
        assert shown == pytest.approx(wanted, abs=tolerance)
    page.locator("#zoom-toggle").click()
    page.wait_for_load_state("networkidle")
    assert_accessible(page)
    screenshot(page, "asset-faces")
    context.close()


def test_viewers_see_people_without_names_and_it_fits_a_phone(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    photo_asset: str,
) -> None:
    context = browser.new_context(
        base_url=server, locale="nl-BE", viewport={"width": 360, "height": 740}
    )
    page = context.new_page()
    log_in(page, make_person(Role.viewer))
    page.goto(f"/assets/{photo_asset}")
    labels = page.locator(".face-box").evaluate_all(
        "links => links.map(a => a.getAttribute('aria-label'))"
    )
    assert labels == [f"Persoon {n}" for n in range(1, len(faces_of(ui_runtime, photo_asset)) + 1)]
    expect(page.locator(".face-decide")).to_have_count(0)
    expect(page.locator("img.face-crop")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the photo page scrolls sideways by {overflow}px at phone width"
    assert_accessible(page)
    context.close()


def test_faces_are_named_and_dismissed_with_the_keyboard(
    page: Page, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    asset_id = upload_photo(ui_runtime, server, group_photo("2008_001009.jpg"))
    assert len(faces_of(ui_runtime, asset_id)) >= 2
    log_in(page, make_person(Role.privacy_officer))
    page.goto(f"/assets/{asset_id}")
    page.get_by_role("tab", name="Personen").focus()
    page.keyboard.press("Enter")  # the faces are the page's People part

    first, second = page.locator(".face-item").nth(0), page.locator(".face-item").nth(1)
    first.get_by_text("Gezicht 1 bevestigen of afwijzen").focus()
    page.keyboard.press("Enter")  # opens the details
    first.get_by_role("combobox", name="Wie is dit?").focus()
    page.keyboard.type("Els Claes")  # nobody yet: no option is chosen, Enter sends the name
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Gezicht 1 is bevestigd.")
    expect(page.get_by_role("link", name="Gezicht 1: Els Claes (bevestigd)")).to_be_visible()

    second.get_by_text("Gezicht 2 bevestigen of afwijzen").focus()
    page.keyboard.press("Enter")
    expect(second.get_by_role("group", name="Waarom afwijzen?")).to_be_visible()
    second.get_by_role("button", name="Niet herkenbaar (gezicht 2)").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Gezicht 2 is afgewezen.")
    expect(page.get_by_role("link", name="Gezicht 2: afgewezen")).to_be_visible()
    expect(page.locator(".face-item.state-dismissed")).to_contain_text("Reden: niet herkenbaar")
    page.wait_for_load_state("networkidle")
    assert_accessible(page)
    screenshot(page, "asset-faces-decided")
