"""The asset page as each role uses it, in Chromium: a viewer gets the picture, one
verdict summary and the parts for their job (details to read, people, publishing with
downloads and recorded publications), no technical data, processing or history, fits
360 px and works by keyboard (arrow keys between the parts); a creative saves the one
details form from a result set and stays in it ("6 van 6"), and a share link is offered
only for channels the asset is cleared for."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import httpx
from playwright.sync_api import Browser, Page, expect

from dam.models import FaceState, Role
from dam.runtime import Runtime
from tests import media
from tests.browser.conftest import Person, api_token, assert_accessible, log_in, screenshot
from tests.browser.test_privacy import seed_faces


def upload(server: str, token: str, *, title: str, alt: str = "") -> str:
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        created = client.post(
            "/api/v1/assets",
            files={
                "file": (
                    "foto.jpg",
                    media.jpeg(640, 480, seed=secrets.randbelow(10**9)),
                    "image/jpeg",
                )
            },
            # The team's own photo: the licence holds nothing back, only the faces do.
            data={"title": title, "licence_status": "own"},
        )
        assert created.status_code == 201, created.text
        asset_id = str(created.json()["id"])
        if alt:
            client.patch(f"/api/v1/assets/{asset_id}", json={"alt_text": alt}).raise_for_status()
        used = client.post(
            f"/api/v1/assets/{asset_id}/usages",
            json={"channel": "intranet", "url": "https://intranet.example.org/nieuws/5"},
        )
        assert used.status_code == 201, used.text
        return asset_id


def test_the_viewer_gets_the_parts_for_their_job(
    browser: Browser, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    creative = make_person(Role.creative)
    token = api_token(ui_runtime, creative)
    asset_id = upload(server, token, title="Zomerfeest aan de Leie", alt="Mensen dansen")
    seed_faces(ui_runtime, asset_id, (FaceState.unknown, None))
    viewer = make_person(Role.viewer)
    for width in (1280, 360):
        context = browser.new_context(
            base_url=server, locale="nl-BE", viewport={"width": width, "height": 800}
        )
        page = context.new_page()
        try:
            log_in(page, viewer, path=f"/assets/{asset_id}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Zomerfeest aan de Leie")
            summary = page.locator("#verdict .verdict-group")
            # Every channel has the same reason: one line, not six.
            expect(summary).to_have_count(1)
            expect(summary).to_contain_text("na te kijken")
            expect(summary).to_contain_text("Intern gebruik, intranet, website")
            tabs = page.get_by_role("tab")
            expect(tabs).to_have_text(["Gegevens", "Personen", "Publiceren"])
            expect(page.get_by_role("tab", name="Gegevens", exact=True)).to_have_attribute(
                "aria-selected", "true"
            )
            expect(page.get_by_label("Titel")).to_have_count(0)  # read, not edit
            for absent in ("Technische gegevens", "Geschiedenis", "Verwerking", "Deellinks"):
                expect(page.get_by_role("heading", name=absent)).to_have_count(0)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the asset page scrolls sideways by {overflow}px at {width}"
            assert_accessible(page)
            screenshot(page, f"asset-viewer-{width}")

            # By keyboard: the arrow key moves to the next part and shows it.
            page.get_by_role("tab", name="Gegevens", exact=True).focus()
            page.keyboard.press("ArrowRight")
            people = page.get_by_role("tab", name="Personen")
            expect(people).to_be_focused()
            expect(people).to_have_attribute("aria-selected", "true")
            expect(page.get_by_role("tabpanel", name="Personen")).to_contain_text("Persoon 1")
            page.keyboard.press("ArrowRight")
            publishing = page.get_by_role("tabpanel", name="Publiceren")
            expect(publishing.get_by_role("heading", name="Downloaden", exact=True)).to_be_visible()
            expect(
                publishing.get_by_role("link", name="https://intranet.example.org/nieuws/5")
            ).to_be_visible()
            expect(page.get_by_role("tabpanel", name="Gegevens")).to_be_hidden()
            assert_accessible(page)
        finally:
            context.close()


def test_saving_keeps_the_result_set_and_links_only_for_cleared_channels(
    page: Page, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    creative = make_person(Role.creative)
    token = api_token(ui_runtime, creative)
    ids = [upload(server, token, title=f"Reeks {n}", alt="Een reeks foto's") for n in range(6)]
    log_in(page, creative, path="/?mine=1")
    page.get_by_role("link", name="Reeks 0").click()  # the oldest: the last of six
    page.get_by_role("dialog", name="Reeks 0").get_by_role("link", name="Pagina openen").click()
    page.wait_for_url("**/assets/**")
    expect(page.get_by_text("6 van 6")).to_be_visible()
    here = page.url
    assert "i=5" in here and "mine=1" in here

    # The licence status's radio buttons sit beside their names, one line each.
    for name in ("Eigen werk", "Onder licentie", "Onbekend"):
        radio = page.get_by_label(name, exact=True)
        button, line = radio.bounding_box(), radio.locator("xpath=..").bounding_box()
        assert button is not None and line is not None
        assert button["width"] < 40 and line["height"] < 40, (name, button, line)
    page.get_by_label("Titel").fill("Reeks 0, bewerkt")
    page.get_by_label("Embargo: niet publiceren vóór").fill("2099-01-01")
    page.get_by_role("button", name="Bewaren").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reeks 0, bewerkt")
    expect(page.get_by_text("6 van 6")).to_be_visible()  # still in the result set
    assert "i=5" in page.url and "mine=1" in page.url
    expect(page.get_by_role("tab", name="Gegevens", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )

    # Under embargo it is cleared for no channel: no link form, a reason instead.
    page.get_by_role("tab", name="Publiceren").click()
    expect(page.locator("#share-not-cleared")).to_contain_text("voor geen enkel kanaal")
    expect(page.get_by_role("button", name="Link maken")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "asset-publishing-embargo")

    # Another one (no faces, alt text given): cleared, so a link can be made.
    page.goto(f"/assets/{ids[1]}#publishing")
    expect(page.get_by_role("tab", name="Publiceren")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("button", name="Link maken")).to_be_visible()
    page.get_by_role("button", name="Link maken").click()
    created = page.locator("#share-created-url")
    expect(created).to_have_value(re.compile(r"^http://.+/s/[\w-]+$"))
    # Copied where it was made: the button puts the link on the clipboard and says so.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="De link kopiëren").click()
    expect(page.get_by_text("Gekopieerd.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == created.input_value()
    page.get_by_role("button", name="De insluitcode kopiëren").click()
    assert page.evaluate("navigator.clipboard.readText()").startswith("<iframe src=")
    assert_accessible(page)
