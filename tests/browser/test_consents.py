"""Consent in Chromium: withdrawing from the person page takes at most three clicks and
lands on the take-down list; the keyboard alone can do it too; axe-core finds no
violations on the person page with its consents, the withdrawal confirmation, the
take-down list and an asset page with its verdict, in Dutch and English (screenshots)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dam.models import FaceState, Role
from dam.runtime import Runtime
from tests import media
from tests.browser.conftest import Person, api_token, assert_accessible, log_in, screenshot
from tests.gdpr.consent.test_consents_http import with_face

LOCALES = {"nl": "nl-BE", "en": "en-GB"}
WORDS = {
    "nl": {
        "withdraw": "Toestemming intrekken",
        "confirm": "Ja, toestemming intrekken",
        "takedown": "Lijst om te verwijderen voor",
        "mark": "Markeren als verwijderd",
        "blocked": "geblokkeerd",
        "cleared": "vrijgegeven",
    },
    "en": {
        "withdraw": "Withdraw consent",
        "confirm": "Yes, withdraw the consent",
        "takedown": "Take-down list for",
        "mark": "Mark as taken down",
        "blocked": "blocked",
        "cleared": "cleared",
    },
}


@dataclass(frozen=True)
class Setup:
    officer: Person
    person_id: str
    name: str
    asset_id: str


@pytest.fixture
def make_setup(
    server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> Callable[[], Setup]:
    """A person on a photo with a consent in force and a recorded publication."""

    def make() -> Setup:
        officer = make_person(Role.privacy_officer)
        api = httpx.Client(
            base_url=server,
            headers={"Authorization": f"Bearer {api_token(ui_runtime, officer)}"},
            timeout=120,
        )
        seed = secrets.randbelow(10_000)
        created = api.post(
            "/api/v1/assets",
            files={"file": ("optocht.jpg", media.jpeg(320, 240, seed=seed), "image/jpeg")},
            data={"title": f"Optocht {seed}"},
        )
        assert created.status_code == 201, created.text
        asset_id = created.json()["id"]
        name = f"Lotte Claes {secrets.token_hex(2).upper()}"  # the server is shared
        person_id = api.post("/api/v1/people", json={"name": name}).json()["id"]
        with_face(ui_runtime, asset_id, person_id, FaceState.confirmed)
        given = api.post(
            f"/api/v1/people/{person_id}/consents",
            json={
                "channels": ["internal", "intranet", "website"],
                "granted_at": "2026-01-01",
                "valid_until": "2030-12-31",
                "form_version": "2026-A",
            },
        )
        assert given.status_code == 201, given.text
        used = api.post(
            f"/api/v1/assets/{asset_id}/usages",
            json={"channel": "intranet", "url": "https://intranet.example.org/nieuws/1"},
        )
        assert used.status_code == 201, used.text
        return Setup(officer, person_id, name, asset_id)

    return make


def new_context(browser: Browser, server: str, lang: str) -> BrowserContext:
    ctx = browser.new_context(
        base_url=server, locale=LOCALES[lang], viewport={"width": 1280, "height": 900}
    )
    ctx.set_default_timeout(15_000)
    return ctx


def test_withdrawal_from_the_person_page_in_at_most_three_clicks(
    page: Page, make_setup: Callable[[], Setup]
) -> None:
    setup = make_setup()
    words = WORDS["nl"]
    log_in(page, setup.officer, path=f"/people/{setup.person_id}")
    expect(page.locator("#consents")).to_contain_text("actief")

    clicks = 0
    page.get_by_role("link", name=words["withdraw"]).click()
    clicks += 1
    expect(page.get_by_role("heading", level=1)).to_contain_text(setup.name)
    expect(page.locator(".consequences")).to_contain_text("geblokkeerd voor elk kanaal")
    page.get_by_label("Reden (optioneel)").fill("Gevraagd aan de balie")  # typing, no click
    page.get_by_role("button", name=words["confirm"]).click()
    clicks += 1
    page.wait_for_url(f"**/people/{setup.person_id}/takedown")
    assert clicks <= 3

    expect(page.get_by_role("heading", level=1)).to_contain_text(words["takedown"])
    expect(page.locator(".flash-success")).to_contain_text("De toestemming is ingetrokken")
    link = page.get_by_role("link", name="https://intranet.example.org/nieuws/1")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    # Marking the publication as taken down greys it out below.
    page.get_by_role("button", name=words["mark"]).click()
    expect(page.locator(".takedown-item.recalled")).to_have_count(1)
    expect(page.get_by_role("button", name=words["mark"])).to_have_count(0)

    page.goto(f"/assets/{setup.asset_id}")
    verdict = page.locator("#verdict")
    expect(verdict.locator(".verdict-badge.status-blocked")).to_have_count(6)
    expect(verdict.locator(".verdict-badge.status-cleared")).to_have_count(0)


def test_the_keyboard_alone_withdraws(page: Page, make_setup: Callable[[], Setup]) -> None:
    setup = make_setup()
    log_in(page, setup.officer, path=f"/people/{setup.person_id}")
    button = page.get_by_role("link", name=WORDS["nl"]["withdraw"])
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/people/{setup.person_id}/withdraw")
    page.get_by_label("Reden (optioneel)").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == WORDS["nl"]["confirm"]
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/people/{setup.person_id}/takedown")


@pytest.mark.parametrize("lang", LOCALES)
def test_consent_pages_have_no_axe_violations(
    browser: Browser, server: str, make_setup: Callable[[], Setup], lang: str
) -> None:
    setup = make_setup()
    words = WORDS[lang]
    context = new_context(browser, server, lang)
    try:
        page = context.new_page()
        log_in(page, setup.officer, path=f"/people/{setup.person_id}")
        assert page.locator("html").get_attribute("lang") == lang
        page.locator("details.consent-new summary").click()  # the form open too
        expect(page.locator("#consent-granted")).to_be_visible()
        assert_accessible(page)
        screenshot(page, "person-consents")

        page.goto(f"/assets/{setup.asset_id}")
        page.locator("details.verdict-channel").first.locator("summary").click()
        expect(page.locator(".verdict-badge.status-cleared").first).to_contain_text(
            words["cleared"]
        )
        assert_accessible(page)
        screenshot(page, "asset-verdict")

        page.goto(f"/people/{setup.person_id}")
        page.get_by_role("link", name=words["withdraw"]).click()
        expect(page.get_by_role("button", name=words["confirm"])).to_be_visible()
        assert_accessible(page)
        screenshot(page, "consent-withdraw")

        page.get_by_role("button", name=words["confirm"]).click()
        page.wait_for_url(f"**/people/{setup.person_id}/takedown")
        assert_accessible(page)
        screenshot(page, "takedown")
        page.get_by_role("button", name=words["mark"]).click()
        expect(page.locator(".takedown-item.recalled")).to_have_count(1)
        assert_accessible(page)  # the greyed-out rows keep their contrast
        screenshot(page, "takedown-recalled")

        page.goto(f"/assets/{setup.asset_id}")
        expect(page.locator(".verdict-badge.status-blocked").first).to_contain_text(
            words["blocked"]
        )
        assert_accessible(page)
    finally:
        context.close()
