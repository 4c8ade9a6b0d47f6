"""A creative's day: log in, upload by drag and drop and by picker, wait until ready, edit
metadata, build a collection, switch language, log out."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from dam.models import Role
from tests import media
from tests.browser.conftest import Person, assert_accessible, log_in, screenshot


def drop_files(page: Page, selector: str, files: dict[str, bytes]) -> None:
    """Drop files on `selector` the way a browser does after a drag from the desktop."""
    payload = [
        {"name": name, "data": base64.b64encode(data).decode(), "type": "image/jpeg"}
        for name, data in files.items()
    ]
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name, { type: f.type }));
            }
            return dt;
        }""",
        payload,
    )
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_creative_journey(page: Page, make_person: Callable[..., Person], tmp_path: Path) -> None:
    person = make_person(Role.creative)
    # Logging in from a deep link brings the user back to that page.
    page.goto("/upload")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fupload$"))
    log_in(page, person, path=page.url)
    expect(page).to_have_url(re.compile(r"/upload$"))
    expect(page.get_by_role("heading", name="Uploaden", level=1)).to_be_visible()
    screenshot(page, "upload")

    dropped = {
        "strand.jpg": media.jpeg(
            seed=101,
            make="Canon",
            model="EOS R6",
            taken=datetime(2026, 3, 3, 14, 5),
            gps=(51.2194, 4.4025),
        ),
        "markt.jpg": media.jpeg(seed=102),
    }
    drop_files(page, "#dropzone", dropped)
    picked = tmp_path / "park.jpg"
    picked.write_bytes(media.jpeg(seed=103))
    page.get_by_label("Bestanden kiezen").set_input_files(picked)

    items = page.locator(".upload-item")
    expect(items).to_have_count(3)
    for index in range(3):
        expect(items.nth(index)).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(items.filter(has_text="strand.jpg")).to_contain_text("Klaar")
    screenshot(page, "upload-done")
    assert_accessible(page)  # the list of uploads with its progress bars and states

    # The same file again: a duplicate notice with a link to the asset.
    drop_files(page, "#dropzone", {"strand-again.jpg": dropped["strand.jpg"]})
    duplicate = items.filter(has_text="strand-again.jpg")
    expect(duplicate).to_contain_text("Staat al in de bibliotheek", timeout=30_000)
    expect(duplicate.get_by_role("link", name="openen")).to_be_visible()

    # The library shows my three uploads.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Bibliotheek").click()
    page.wait_for_load_state()  # the instant-search script is running
    page.get_by_label("Alleen mijn uploads").check()  # instant: no button to press
    expect(page).to_have_url(re.compile(r"mine=1"))
    expect(page.locator("#grid .card")).to_have_count(3)
    expect(page.get_by_text("3 bestanden")).to_be_visible()
    expect(page.locator("#grid img").first).to_have_class("loaded")
    screenshot(page, "library")

    # Edit the metadata of the beach photo, with a server-side validation message first.
    # A tile opens the lightbox; from there the photo's page.
    page.get_by_role("link", name="strand.jpg").click()
    lightbox = page.get_by_role("dialog", name="strand.jpg")
    expect(lightbox).to_be_visible()
    lightbox.get_by_role("link", name="Pagina openen").click()
    expect(page.get_by_role("heading", name="strand.jpg", level=1)).to_be_visible()
    page.get_by_role("tab", name="Technische gegevens").click()  # the page's parts
    expect(page.get_by_text("Canon EOS R6")).to_be_visible()
    expect(page.get_by_text("51.21940, 4.40250")).to_be_visible()
    expect(page.get_by_text("3 maart 2026 14:05")).to_be_visible()
    page.get_by_role("tab", name="Gegevens", exact=True).click()
    page.get_by_label("Titel").fill("Strand van Oostende")
    page.get_by_label("Alternatieve tekst").fill(
        "Golven rollen op een leeg strand bij zonsondergang"
    )
    page.get_by_label("Trefwoorden").fill("zee, strand, zomer")
    page.get_by_label("Licentie geldig tot").fill("2026-12-31")
    page.get_by_label("Webadres van de licentie").fill("ftp://elders")
    page.get_by_role("button", name="Bewaren", exact=True).click()
    expect(page.get_by_text("Geef een webadres dat begint met https://.")).to_be_visible()
    expect(page.get_by_label("Webadres van de licentie")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Webadres van de licentie").fill(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    page.get_by_role("button", name="Bewaren", exact=True).click()
    expect(page.get_by_text("De wijzigingen zijn bewaard.")).to_be_visible()
    expect(page.get_by_role("heading", name="Strand van Oostende", level=1)).to_be_visible()
    expect(page.locator(".history")).to_contain_text("bewerkt")
    screenshot(page, "asset")

    # Zoom: the large rendition, scrollable, with the button saying what it does now.
    zoom = page.get_by_role("button", name="Inzoomen")
    zoom.click()
    expect(page.get_by_role("button", name="Uitzoomen")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#preview")).to_have_attribute("src", re.compile(r"/renditions/large$"))
    expect(page.locator("#zoom-frame")).to_have_class(re.compile(r"\bzoomed\b"))

    # Previous/next walk the result set the page was opened from.
    nav = page.get_by_role("navigation", name="Resultaten")
    position = int(nav.get_by_text(re.compile(r"^\d van 3$")).inner_text()[0])
    if position < 3:
        nav.get_by_role("link", name="Volgende", exact=True).click()
        expect(nav.get_by_text(f"{position + 1} van 3")).to_be_visible()
    else:
        nav.get_by_role("link", name="Vorige", exact=True).click()
        expect(nav.get_by_text("2 van 3")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Strand van Oostende")

    # Build a collection and add two photos from the library.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Collecties").click()
    page.get_by_label("Titel").fill("Campagne welzijn 2026")
    page.get_by_label("Beschrijving").fill("Beelden voor de campagne")
    page.get_by_role("button", name="Collectie maken").click()
    expect(page.get_by_text("Collectie Campagne welzijn 2026 aangemaakt.")).to_be_visible()
    page.goto("/?mine=1")
    page.get_by_label("Strand van Oostende selecteren").check()
    page.get_by_label("markt.jpg selecteren").check()
    expect(page.get_by_text("2 geselecteerd")).to_be_visible()
    page.get_by_label("Collectie", exact=True).select_option(label="Campagne welzijn 2026")
    page.get_by_role("button", name="Aan collectie toevoegen").click()
    expect(page.get_by_text("2 bestanden toegevoegd aan Campagne welzijn 2026.")).to_be_visible()
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Collecties").click()
    page.get_by_role("link", name="Campagne welzijn 2026").click()
    expect(page.locator("#grid .card")).to_have_count(2)
    screenshot(page, "collection")

    # Switch to English: remembered for this user on the next login too.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("2 assets")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto("/collections")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcollections$"))
