"""The library's tiles and lightbox in Chromium: tiles as wide as their pictures in rows of
one height, the title over the picture on hover and keyboard focus; a tile opens the
lightbox by keyboard, Right and Left walk the result set (the next page of tiles loaded
when the last is passed), Tab stays inside, Escape closes it and focus returns to the tile
of the picture shown; the same from a collection; a video plays there, poster first;
axe-core finds nothing with it open, and nothing is wider than a phone."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from dam.models import Role
from dam.runtime import Runtime
from search.service import service_for
from tests import media
from tests import video_clips as clips
from tests.browser.conftest import Person, api_token, assert_accessible, log_in, screenshot
from tests.browser.test_asset_page import wait_until
from tests.video_clips import Clip

# Titles in sort order, with the picture's shape.
PICTURES = {"Rij 1 breed": (640, 360), "Rij 2 hoog": (360, 640), "Rij 3 vierkant": (480, 480),
            "Rij 4 laatste": (600, 400)}  # fmt: skip


def seed(server: str, token: str, first_seed: int) -> list[str]:
    ids = []
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        for n, (title, (width, height)) in enumerate(PICTURES.items()):
            made = client.post(
                "/api/v1/assets",
                files={
                    "file": (
                        f"l{n}.jpg",
                        media.jpeg(width, height, seed=first_seed + n),
                        "image/jpeg",
                    )
                },
                data={"title": title},
            )
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        collection = client.post("/api/v1/collections", json={"title": "Lichtbak"}).json()
        client.post(f"/api/v1/collections/{collection['id']}/assets", json={"asset_ids": ids})
    return [collection["id"]]


def active_in(page: Page, selector: str) -> bool:
    return bool(page.evaluate(f"!!document.activeElement.closest({selector!r})"))


def wait_for_picture(dialog: Locator) -> None:
    image = dialog.locator(".lightbox-image")
    expect(image).to_have_attribute("src", re.compile(r"^/api/v1/assets/\w+/renditions/preview$"))
    image.evaluate("img => img.decode()")  # loaded and decodable: it came through


def test_tiles_and_the_lightbox_by_keyboard(
    page: Page,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creative = make_person(Role.creative)
    (collection_id,) = seed(server, api_token(ui_runtime, creative), 7300)
    monkeypatch.setattr("web.ui.listing.PER_PAGE", 3)  # the live server runs in this process
    # No scrolling loads the next page (as in a browser without IntersectionObserver): the
    # lightbox has to, when it passes the last tile.
    page.add_init_script("delete window.IntersectionObserver")
    log_in(page, creative, path="/?mine=1&sort=title")
    cards = page.locator("#grid .card")
    expect(cards).to_have_count(3)

    # Aspect-aware tiles in one row of one height.
    boxes = [cards.nth(n).locator(".thumb").bounding_box() for n in range(3)]
    assert all(boxes)
    wide, tall, square = (b["width"] / b["height"] for b in boxes if b)
    assert wide == pytest.approx(1.8, abs=0.05) and tall == pytest.approx(0.6, abs=0.05)
    assert square == pytest.approx(1.0, abs=0.05)
    assert len({round(b["y"]) for b in boxes if b}) == 1
    assert len({round(b["height"]) for b in boxes if b}) == 1

    screenshot(page, "library-tiles")
    # The title shows over the picture on hover and on keyboard focus.
    caption = cards.nth(1).locator(".card-caption")
    expect(caption).to_have_css("opacity", "0")
    cards.nth(1).hover()
    expect(caption).to_have_css("opacity", "1")
    page.mouse.move(0, 0)
    expect(caption).to_have_css("opacity", "0")
    cards.nth(1).locator("input.select").focus()
    page.keyboard.press("Tab")  # from the tile's check box to its link, by keyboard
    expect(cards.nth(1).locator(".card-link")).to_be_focused()
    expect(caption).to_have_css("opacity", "1")
    first_tile = cards.nth(0).locator(".card-link")

    # Enter on a tile opens the lightbox at its picture.
    first_tile.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Rij 1 breed")).to_be_visible()
    dialog = page.locator("#lightbox")
    expect(dialog.locator(".lightbox-position")).to_have_text("1 van 4")
    wait_for_picture(dialog)
    assert page.url.endswith("/?mine=1&sort=title")  # still the library
    assert active_in(page, "#lightbox")
    expect(dialog.get_by_role("button", name="Vorige")).to_be_disabled()
    assert_accessible(page)
    screenshot(page, "lightbox")

    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("dialog", name="Rij 2 hoog")).to_be_visible()
    expect(dialog.locator(".lightbox-position")).to_have_text("2 van 4")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("dialog", name="Rij 1 breed")).to_be_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("dialog", name="Rij 3 vierkant")).to_be_visible()
    # Past the last tile of the page: the next page of tiles is loaded into the grid.
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("dialog", name="Rij 4 laatste")).to_be_visible()
    expect(cards).to_have_count(4)
    expect(dialog.locator(".lightbox-position")).to_have_text("4 van 4")
    expect(dialog.get_by_role("button", name="Volgende")).to_be_disabled()
    page.keyboard.press("ArrowRight")  # the end: nothing changes
    expect(page.get_by_role("dialog", name="Rij 4 laatste")).to_be_visible()
    link = dialog.get_by_role("link", name="Pagina openen")
    href = link.get_attribute("href") or ""
    assert href.startswith("/assets/") and href.endswith("i=3")

    # Tab goes round inside the dialog.
    for _ in range(6):
        page.keyboard.press("Tab")
        assert active_in(page, "#lightbox")
    page.keyboard.press("Shift+Tab")
    assert active_in(page, "#lightbox")

    page.keyboard.press("Escape")
    expect(page.locator("#lightbox")).to_be_hidden()
    # Focus is back on the tile of the picture shown last.
    expect(cards.nth(3).locator(".card-link")).to_be_focused()

    # A collection's tiles open the same lightbox; Close returns focus too.
    page.goto(f"/collections/{collection_id}")
    tiles = page.locator("#grid .card-link")
    expect(tiles).to_have_count(3)
    tiles.nth(1).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator(".lightbox-position")).to_have_text("2 van 4")
    page.keyboard.press("ArrowLeft")
    wait_for_picture(page.locator("#lightbox"))
    page.get_by_role("button", name="Sluiten").press("Enter")
    expect(page.locator("#lightbox")).to_be_hidden()
    expect(tiles.nth(0)).to_be_focused()


def test_without_scripts_a_tile_goes_to_the_asset_page_and_tiles_fit_a_phone(
    browser: Browser, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    creative = make_person(Role.creative)
    seed(server, api_token(ui_runtime, creative), 7310)
    phone = browser.new_context(
        base_url=server, locale="nl-BE", viewport={"width": 360, "height": 740}
    )
    page = phone.new_page()
    log_in(page, creative, path="/?mine=1&sort=title")
    expect(page.locator("#grid .card")).to_have_count(4)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the library scrolls sideways by {overflow}px at 360 px"
    # On a touch screen nothing hovers: the titles are always there.
    phone.close()

    plain = browser.new_context(base_url=server, locale="nl-BE", java_script_enabled=False)
    page = plain.new_page()
    log_in(page, creative, path="/?mine=1&sort=title")
    page.locator("#grid .card-link").first.click()
    page.wait_for_url("**/assets/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rij 1 breed")
    plain.close()


def test_a_video_plays_in_the_lightbox_poster_first(
    page: Page,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A video's tile opens its player in the lightbox: the poster first, its web version
    (through the gated rendition route, as a viewer may see it) with controls, never
    playing by itself, with its subtitles as tracks through the gated caption route, as on
    the asset page. Arrow keys in the video are its own; elsewhere they walk the tiles,
    and leaving the video stops it. Escape closes from inside the video too."""
    creative, viewer = make_person(Role.creative), make_person(Role.viewer)
    clip = clips.render(Clip("lightbox", size="320x180", seconds=4.0), tmp_path_factory.mktemp("v"))
    with httpx.Client(
        base_url=server,
        headers={"Authorization": f"Bearer {api_token(ui_runtime, creative)}"},
        timeout=180,
    ) as client:
        for title, name, data, mime in (
            ("Lichtbakvideo 1", "clip.mp4", clip.read_bytes(), "video/mp4"),
            ("Lichtbakvideo 2 foto", "f.jpg", media.jpeg(480, 320, seed=7320), "image/jpeg"),
        ):
            made = client.post(
                "/api/v1/assets", files={"file": (name, data, mime)}, data={"title": title}
            )
            assert made.status_code == 201, made.text
            assert client.get(f"/api/v1/assets/{made.json()['id']}").json()["status"] == "ready"
            if mime == "video/mp4":
                vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:03.000\nGoedemorgen.\n"
                added = client.put(f"/api/v1/assets/{made.json()['id']}/captions/nl", content=vtt)
                assert added.status_code == 201, added.text
    # The search below reads the index: without this the page can be served before the
    # uploads are indexed (seen once in CI).
    assert service_for(ui_runtime).sync.flush()  # the live server runs in this process
    log_in(page, viewer, path="/?q=Lichtbakvideo&sort=title")
    tiles = page.locator("#grid .card-link")
    expect(tiles).to_have_count(2)
    tiles.first.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#lightbox")
    expect(page.get_by_role("dialog", name="Lichtbakvideo 1")).to_be_visible()
    player = dialog.locator("video.lightbox-player")
    expect(player).to_be_visible()
    expect(dialog.locator(".lightbox-image")).to_be_hidden()
    expect(player).to_have_attribute(
        "poster", re.compile(r"^/api/v1/assets/\w+/renditions/poster$")
    )
    expect(player).to_have_attribute("src", re.compile(r"^/api/v1/assets/\w+/renditions/web_720$"))
    assert player.evaluate("v => v.controls && v.paused && !v.autoplay && v.currentTime === 0")
    track = player.locator("track")
    expect(track).to_have_count(1)
    expect(track).to_have_attribute("src", re.compile(r"^/api/v1/assets/\w+/captions/nl$"))
    expect(track).to_have_attribute("srclang", "nl")
    # The viewer gets the subtitles through the gate: shown, their cue loads.
    player.evaluate("v => { v.textTracks[0].mode = 'showing'; }")
    wait_until(page, "document.querySelector('#lightbox video').textTracks[0].cues?.length === 1")
    assert_accessible(page)
    screenshot(page, "lightbox-video")

    # It plays (the viewer gets the web version through the gate), muted here by the test.
    player.evaluate("v => { v.muted = true; return v.play(); }")
    wait_until(page, "document.querySelector('#lightbox video').currentTime > 0.3")
    player.evaluate("v => v.pause()")
    # The arrow keys inside the video wind it; the lightbox stays on the video.
    player.focus()
    before = player.evaluate("v => v.currentTime")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(dialog.locator(".lightbox-position")).to_have_text("1 van 2")
    expect(page.get_by_role("dialog", name="Lichtbakvideo 1")).to_be_visible()
    assert player.evaluate("v => v.currentTime") >= before
    # Elsewhere in the dialog they walk the tiles: the video stops and lets go of its file.
    dialog.get_by_role("button", name="Sluiten").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("dialog", name="Lichtbakvideo 2 foto")).to_be_visible()
    expect(player).to_be_hidden()
    assert player.evaluate("v => v.paused && !v.getAttribute('src')")
    expect(track).to_have_count(0)
    wait_for_picture(dialog)
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("dialog", name="Lichtbakvideo 1")).to_be_visible()
    expect(player).to_be_visible()
    expect(track).to_have_count(1)  # its own subtitles again, not twice
    assert player.evaluate("v => v.paused && v.currentTime === 0")
    # Escape with the focus in the video closes the lightbox; focus returns to the tile.
    player.focus()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(tiles.first).to_be_focused()
    assert player.evaluate("v => v.paused && !v.getAttribute('src')")
