"""Every page, in Dutch and in English: axe-core finds no violations; screenshots for review.

Also: the pages fit a phone's width without sideways scrolling.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dam.models import Role
from dam.runtime import Runtime
from tests import media
from tests.browser.conftest import Person, api_token, assert_accessible, log_in, screenshot

LOCALES = {"nl": "nl-BE", "en": "en-GB"}


def seed_library(server: str, token: str) -> tuple[list[str], str]:
    """Two photos and a collection holding them, made through the API."""
    headers = {"Authorization": f"Bearer {token}"}
    ids = []
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        for seed in (201, 202):
            response = client.post(
                "/api/v1/assets",
                files={
                    "file": (
                        f"foto-{seed}.jpg",
                        media.jpeg(seed=seed, make="Nikon", model="Z6"),
                        "image/jpeg",
                    )
                },
                data={"title": f"Foto {seed}", "tags": "toegankelijk, test"},
            )
            ids.append(response.json()["id"])
        created = client.post("/api/v1/collections", json={"title": "Toegankelijk 2026"})
        collection_id = created.json()["id"]
        client.post(f"/api/v1/collections/{collection_id}/assets", json={"asset_ids": ids})
    return ids, collection_id


def check(page: Page, name: str) -> None:
    expect(page.locator("h1")).to_be_visible()
    page.wait_for_load_state("load")
    assert_accessible(page)
    screenshot(page, name)


@pytest.mark.parametrize("lang", LOCALES)
def test_every_page_has_no_axe_violations(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    lang: str,
) -> None:
    context = browser.new_context(base_url=server, locale=LOCALES[lang])
    page = context.new_page()
    admin = make_person(Role.admin)
    ids, collection_id = seed_library(server, api_token(ui_runtime, admin))

    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    check(page, "login")
    page.locator("#email").fill(admin.email)
    page.locator("#password").fill("not the password")
    page.locator("main form button[type=submit]").click()
    check(page, "login-wrong-password")

    log_in(page, admin)
    check(page, "library")
    page.goto(f"/assets/{ids[0]}?i=0")
    check(page, "asset")
    page.locator("#licence_valid_until").fill("")
    page.locator("#licence_url").fill("not a web address")
    page.locator(".details form button[type=submit]").click()
    expect(page.locator("#error-licence_url")).to_be_visible()
    check(page, "asset-invalid")
    for path, name in [
        ("/upload", "upload"),
        ("/collections", "collections"),
        (f"/collections/{collection_id}", "collection"),
        ("/admin/users", "admin-users"),
        ("/admin/tokens", "admin-tokens"),
        ("/admin/settings", "admin-settings"),
        ("/admin/import", "admin-import"),
        (f"/uploads/edit?id={ids[0]}", "uploads-edit"),
        ("/no-such-page", "not-found"),
    ]:
        page.goto(path)
        check(page, name)
    page.goto("/")
    page.locator("#grid input.select").first.check()
    page.locator("#bulk button[value=delete]").click()
    check(page, "confirm-delete")
    context.close()


@pytest.mark.parametrize("path", ["/", "/upload", "/collections", "asset"])
def test_pages_fit_a_phone(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    path: str,
) -> None:
    context = browser.new_context(
        base_url=server, locale="nl-BE", viewport={"width": 360, "height": 740}
    )
    page = context.new_page()
    person = make_person(Role.creative)
    ids, _ = seed_library(server, api_token(ui_runtime, person))
    log_in(page, person)
    page.goto(f"/assets/{ids[0]}" if path == "asset" else path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at phone width"
    assert_accessible(page)
    screenshot(page, f"phone-{'asset' if path == 'asset' else path.strip('/') or 'library'}")
    context.close()
