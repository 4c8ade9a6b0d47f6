"""The library in the browser: infinite scroll on top of the pager, selecting with mouse
and keyboard, bulk delete with confirmation; a failed upload shows its message; instant
search with facets, the channel choice and the back button, and the same search as a
plain form without scripts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dam.models import Role
from dam.runtime import Runtime
from search.service import service_for
from tests import media
from tests.browser.conftest import Person, api_token, assert_accessible, log_in


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


SEARCHABLE = [
    ("Fietsers op de Graslei in Gent", "gent, zomer, fietsen"),
    ("Fietsers aan de Korenmarkt in Gent", "gent, winter, fietsen"),
    ("Fietsen langs de Reie in Brugge", "brugge, zomer"),
]


def seed_searchable(server: str, token: str, runtime: Runtime) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        for n, (title, tags) in enumerate(SEARCHABLE):
            client.post(
                "/api/v1/assets",
                files={"file": (f"s{n}.jpg", media.jpeg(80, 60, seed=470 + n), "image/jpeg")},
                data={"title": title, "tags": tags},
            ).raise_for_status()
    assert service_for(runtime).sync.flush()  # the live server runs in this process


def test_instant_search_facets_and_the_back_button(
    page: Page, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    person = make_person(Role.creative)
    seed_searchable(server, api_token(ui_runtime, person), ui_runtime)
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    log_in(page, person)
    loads.clear()
    cards = page.locator("#grid .card")

    # Sloppy words: results follow as they are typed, without loading a page.
    page.get_by_role("searchbox", name="Zoeken").press_sequentially("fietsrs gent", delay=40)
    expect(cards).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/\?q=fietsrs\+gent$"))
    expect(page.locator("#result-count")).to_have_text("2 resultaten")
    expect(page.locator("#result-count")).to_have_attribute("aria-live", "polite")
    expect(cards.first.locator("mark").first).to_have_text("Fietsers")

    # A facet narrows at once, and is a step of its own in the history.
    page.get_by_role("checkbox", name=re.compile(r"^zomer")).check()
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Graslei")
    expect(page).to_have_url(re.compile(r"q=fietsrs\+gent&tag=zomer$"))
    expect(page.get_by_role("checkbox", name=re.compile(r"^zomer"))).to_be_focused()

    page.go_back()
    expect(cards).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/\?q=fietsrs\+gent$"))
    expect(page.get_by_role("checkbox", name=re.compile(r"^zomer"))).not_to_be_checked()
    page.go_back()  # before typing: the whole library again, words gone from the box
    expect(page.get_by_role("searchbox", name="Zoeken")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/$"))
    assert loads == []  # all of it without reloading the page

    # The channel choice; nothing is cleared yet, so the page suggests a way out.
    page.get_by_role("searchbox", name="Zoeken").fill("fiets")
    expect(page).to_have_url(re.compile(r"/\?q=fiets$"))
    expect(cards).to_have_count(3)
    page.get_by_label("Vrijgegeven voor").select_option("website")
    expect(page.get_by_text("Niets gevonden.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=fiets&cleared_for=website$"))
    page.get_by_role("link", name="Ook wat niet vrijgegeven is voor website").click()
    expect(cards).to_have_count(3)
    expect(page.get_by_label("Vrijgegeven voor")).to_have_value("")
    assert_accessible(page)
    assert loads == []

    # A shared address opens on the same results.
    page.goto("/?q=fietsrs+gent&tag=winter")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Korenmarkt")
    expect(page.get_by_role("searchbox", name="Zoeken")).to_have_value("fietsrs gent")


def test_only_my_uploads_while_searching(
    page: Page, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    person, other = make_person(Role.creative), make_person(Role.creative)
    for n, (uploader, title) in enumerate([(person, "Molen in Damme"), (other, "Molen in Lo")]):
        headers = {"Authorization": f"Bearer {api_token(ui_runtime, uploader)}"}
        httpx.post(
            f"{server}/api/v1/assets",
            headers=headers,
            files={"file": (f"m{n}.jpg", media.jpeg(80, 60, seed=490 + n), "image/jpeg")},
            data={"title": title},
            timeout=60,
        ).raise_for_status()
    assert service_for(ui_runtime).sync.flush()
    log_in(page, person, path="/?q=molen")
    cards = page.locator("#grid .card")
    expect(cards).to_have_count(2)
    page.get_by_label("Alleen mijn uploads").check()  # beside the words, at once
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Molen in Damme")
    expect(page).to_have_url(re.compile(r"/\?q=molen&mine=1$"))
    page.go_back()
    expect(cards).to_have_count(2)
    expect(page.get_by_label("Alleen mijn uploads")).not_to_be_checked()
    page.go_forward()
    expect(cards).to_have_count(1)
    expect(page.get_by_label("Alleen mijn uploads")).to_be_checked()


def test_search_without_scripts_is_a_plain_form(
    browser: Browser, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    person = make_person(Role.viewer)
    creative = make_person(Role.creative)
    seed_searchable(server, api_token(ui_runtime, creative), ui_runtime)
    context = browser.new_context(base_url=server, locale="en-GB", java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, person)
        page.get_by_role("searchbox", name="Search").fill("fietsrs gent")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url(re.compile(r"/\?q=fietsrs\+gent"))
        cards = page.locator("#grid .card")
        expect(cards).to_have_count(2)
        page.get_by_role("checkbox", name=re.compile(r"^winter")).check()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(re.compile(r"tag=winter"))
        expect(cards).to_have_count(1)
        expect(cards.locator("mark").first).to_have_text("Fietsers")
        url = page.url
    finally:
        context.close()
    # axe-core needs scripts: the same results, and nothing found, checked in English.
    context = browser.new_context(base_url=server, locale="en-GB")
    try:
        page = context.new_page()
        log_in(page, person, path=url)
        expect(page.locator("#grid .card")).to_have_count(1)
        assert_accessible(page)
        page.get_by_role("searchbox", name="Search").fill("qwxzvk")
        expect(page.get_by_text("Nothing found.")).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()
