"""A privacy officer's access export and erasure in Chromium, from login to the end:
the officer lands on the dashboard, finds the person, starts the export and downloads
the ZIP; then erases the person from their page, after reading what it touches and
typing the name, and sees the tombstone. axe-core finds nothing on any of these pages,
and the erasure page fits a phone."""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from dam.models import FaceState, Role
from dam.runtime import Runtime
from tests.browser.conftest import Person, api_token, assert_accessible, log_in, screenshot
from tests.browser.test_privacy import named, seed_faces, upload


def test_export_and_erasure_from_the_ui(
    page: Page,
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
) -> None:
    officer = make_person(Role.privacy_officer)
    token = api_token(ui_runtime, officer)
    tag = secrets.token_hex(3).upper()
    name = f"Ilse Verzoek {tag}"
    person_id = named(ui_runtime, officer, name)
    photos = [
        upload(server, token, seed=secrets.randbelow(10**9), title=f"Opening {tag} {n}")
        for n in (1, 2)
    ]
    seed_faces(ui_runtime, photos[0], (FaceState.confirmed, person_id))
    seed_faces(ui_runtime, photos[1], (FaceState.suggested, person_id))

    log_in(page, officer)
    page.wait_for_url(f"{server}/privacy")  # officers land on their dashboard
    page.get_by_label("Naam van de persoon").fill(tag)
    page.get_by_role("button", name="Zoeken").click()
    found = page.get_by_role("list", name="Gevonden personen")
    expect(found.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "privacy-find-person")

    found.get_by_role("button", name=f"Inzageverzoek exporteren ({name})").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Export voor inzage: {name}")
    expect(page.locator("#request-status")).to_have_text("Klaar")
    assert_accessible(page)
    screenshot(page, "privacy-export-done")
    with page.expect_download() as fetched:
        page.get_by_role("link", name="Het zip-bestand downloaden").click()
    path = fetched.value.path()
    assert fetched.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("person.json"))
    assert document["person"]["name"] == name
    assert sorted(a["id"] for a in document["assets"]) == sorted(photos)

    page.goto(f"/people/{person_id}")
    requests = page.locator("#requests")
    expect(requests.get_by_text("klaar om te downloaden")).to_be_visible()
    requests.get_by_role("link", name="Wissen…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{name} wissen?")
    impact = page.locator("#erase-impact")
    expect(impact).to_contain_text(f"1 foto of video waarop {name} bevestigd is.")
    expect(impact).to_contain_text(f"1 foto of video waarop {name} alleen voorgesteld is")
    assert_accessible(page)
    screenshot(page, "privacy-erase")

    # Without the name typed nothing happens; the field says why.
    page.get_by_label("De beelden verwijderen, met alle versies en downloads").check()
    page.get_by_role("button", name=f"{name} wissen").click()
    field = page.get_by_label(f"Typ de naam om te bevestigen: {name}")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    # With the keyboard from here on: type the name, Enter submits.
    page.get_by_label("De beelden verwijderen, met alle versies en downloads").check()
    field.fill(name)
    field.press("Enter")
    expect(page.get_by_role("heading", name="De persoon is gewist")).to_be_visible()
    tombstone = page.locator("#tombstone")
    expect(tombstone).to_contain_text("1 verwijderd")
    assert name not in page.content()
    assert_accessible(page)
    screenshot(page, "privacy-erased")
    assert page.goto(f"/people/{person_id}").status == 404  # type: ignore[union-attr]
    assert page.goto(f"/assets/{photos[0]}").status == 404  # type: ignore[union-attr]

    phone = browser.new_context(
        base_url=server, locale="nl-BE", viewport={"width": 360, "height": 740}
    )
    small = phone.new_page()
    try:
        other = named(ui_runtime, officer, f"Smalle Scherm {tag}")
        log_in(small, officer, path=f"/people/{other}/erase")
        overflow = small.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the erasure page scrolls sideways by {overflow}px"
        small.goto("/privacy")
        overflow = small.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the dashboard scrolls sideways by {overflow}px"
    finally:
        phone.close()
