"""The library in the browser: infinite scroll on top of the pager, selecting with mouse
and keyboard, bulk delete with confirmation; a failed upload shows its message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from dam.models import Role
from dam.runtime import Runtime
from tests import media
from tests.browser.conftest import Person, api_token, log_in


def seed(server: str, token: str, count: int, first_seed: int) -> None:
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}) as client:
        for n in range(count):
            photo = media.jpeg(80, 60, seed=first_seed + n)
            client.post(
                "/api/v1/assets",
                files={"file": (f"r{n}.jpg", photo, "image/jpeg")},
                data={"title": f"Reeks {n}"},
                timeout=60,
            ).raise_for_status()


def test_infinite_scroll_selection_and_bulk_delete(
    page: Page,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = make_person(Role.creative)
    seed(server, api_token(ui_runtime, person), 5, first_seed=400)
    monkeypatch.setattr("web.ui.listing.PER_PAGE", 2)  # the live server runs in this process
    fragments: list[str] = []
    page.on("request", lambda r: fragments.append(r.url) if "fragment=1" in r.url else None)
    log_in(page, person, path="/?mine=1&sort=title")
    # The server sends one page of two with a pager; with the pager in view the script
    # loads the following pages into the same grid and hides the pager at the end.
    cards = page.locator("#grid .card")
    page.get_by_role("contentinfo").scroll_into_view_if_needed()
    expect(cards).to_have_count(5)
    expect(page.locator(".pager")).to_be_hidden()
    assert [u.split("?", 1)[1] for u in fragments] == [
        "sort=title&mine=1&page=2&fragment=1",
        "sort=title&mine=1&page=3&fragment=1",
    ]
    expect(cards.locator(".card-title")).to_have_text([f"Reeks {n}" for n in range(5)])

    # Mouse: a click, then shift+click selects the range in between.
    page.get_by_label("Reeks 0 selecteren").click()
    page.get_by_label("Reeks 3 selecteren").click(modifiers=["Shift"])
    expect(page.get_by_text("4 geselecteerd")).to_be_visible()
    # Keyboard: Space toggles the focused check box.
    page.get_by_label("Reeks 3 selecteren").focus()
    page.keyboard.press("Space")
    expect(page.get_by_text("3 geselecteerd")).to_be_visible()
    page.get_by_role("button", name="Selectie wissen").click()
    expect(page.get_by_text("0 geselecteerd")).to_be_visible()
    page.get_by_role("button", name="Alles op deze pagina selecteren").click()
    expect(page.get_by_text("5 geselecteerd")).to_be_visible()
    page.get_by_label("Reeks 4 selecteren").uncheck()

    page.get_by_role("button", name="Verwijderen…").click()
    expect(page.get_by_role("heading", name="4 bestanden verwijderen?")).to_be_visible()
    page.get_by_role("button", name="Ja, verwijderen").click()
    expect(page.get_by_text("4 bestanden verwijderd.")).to_be_visible()
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Reeks 4")


def test_a_file_that_cannot_be_processed_shows_why(
    page: Page, make_person: Callable[..., Person], tmp_path: Path
) -> None:
    broken = tmp_path / "kapot.jpg"
    broken.write_bytes(media.jpeg(seed=450)[:600])  # a JPEG cut off after its header
    log_in(page, make_person(Role.creative), path="/upload")
    page.get_by_label("Bestanden kiezen").set_input_files(broken)
    row = page.locator(".upload-item", has_text="kapot.jpg")
    expect(row).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(row.locator(".status")).to_contain_text("Mislukt: ")
    text = row.locator(".status").inner_text()
    assert len(text) > len("Mislukt: ") + 10, text  # the pipeline's message for people
    row.get_by_role("link", name="Bestand bekijken").click()
    expect(page.get_by_text("Verwerking mislukt:")).to_be_visible()
