"""The People pages in Chromium with real face photos (dlib's johns): name a group, then
confirm and reject suggestions on the person's page with the keyboard; axe-core finds no
violations on either page in Dutch or English; screenshots for review."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dam import auth
from dam.models import Role
from dam.runtime import Runtime
from tests import faces_corpus
from tests.browser.conftest import (
    PASSWORD,
    Person,
    api_token,
    assert_accessible,
    log_in,
    screenshot,
)

LOCALES = {"nl": "nl-BE", "en": "en-GB"}
MAX_TABS = 40


@pytest.fixture(scope="session")
def johns() -> dict[str, list[Path]]:
    try:
        return faces_corpus.johns()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))


class Api:
    """Setting up through the JSON API with a bearer token (the pipeline runs inline)."""

    def __init__(self, server: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )

    def upload_face(self, path: Path) -> dict:
        created = self.client.post(
            "/api/v1/assets", files={"file": (path.name, path.read_bytes(), "image/jpeg")}
        )
        assert created.status_code == 201, created.text
        asset = self.client.get(f"/api/v1/assets/{created.json()['id']}").json()
        assert asset["status"] == "ready", asset["error"]
        assert len(asset["faces"]) == 1
        return dict(asset["faces"][0])

    def face(self, face_id: str) -> dict:
        return dict(self.client.get(f"/api/v1/faces/{face_id}").json())


def group_of(page: Page, face_id: str):
    return page.locator("li.group").filter(has=page.locator(f"img[src*='{face_id}']"))


def test_name_a_group_then_decide_suggestions_with_the_keyboard(
    page: Page,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    johns: dict[str, list[Path]],
) -> None:
    officer = make_person(Role.privacy_officer)
    api = Api(server, api_token(ui_runtime, officer))
    salley = [api.upload_face(p)["id"] for p in johns["John_Salley"][:3]]
    simm = api.upload_face(johns["John_Simm"][0])["id"]
    name = f"Jan Peeters {secrets.token_hex(2).upper()}"  # the browser session is shared

    log_in(page, officer, path="/people")
    expect(page.get_by_role("heading", name="Personen", level=1)).to_be_visible()
    group = group_of(page, salley[0])
    for face in salley:  # the three photos of one man came together in one group
        expect(group.locator(f"img[src*='{face}']")).to_be_visible()
    group.get_by_role("combobox").fill(name)  # the people picker (a new name: a new person)
    group.get_by_role("combobox").press("Enter")
    expect(page.locator(".flash-success")).to_have_text(f"3 gezichten bevestigd als {name}.")
    expect(group_of(page, salley[0])).to_have_count(0)

    # The bulk bar names every selected group at once; a new name makes a new person.
    other = f"Piet Simm {secrets.token_hex(2).upper()}"
    group_of(page, simm).get_by_role("checkbox").check()
    expect(page.locator("#group-selection")).to_have_text("1 groep geselecteerd")
    page.get_by_label("Naam voor de geselecteerde groepen").fill(other)
    page.get_by_role("button", name="Geselecteerde groepen benoemen").click()
    expect(page.locator(".flash-success")).to_have_text(f"1 gezicht bevestigd als {other}.")
    expect(page.locator(".person-card", has_text=other)).to_contain_text("1 foto")

    # The server searches (the picker's rules: words start words of the name).
    card = page.locator(".person-card", has_text=name)
    search = page.get_by_role("searchbox", name="Naam")
    search.fill(name.split()[-1].lower())
    search.press("Enter")
    expect(card).to_be_visible()
    expect(page.locator("#people-count")).to_have_text("1 persoon")
    page.get_by_role("searchbox", name="Naam").fill("niemand heet zo")
    page.get_by_role("searchbox", name="Naam").press("Enter")
    expect(card).to_have_count(0)
    expect(page.locator("#people-count")).to_have_text("0 personen")
    expect(page.get_by_text("Geen personen gevonden voor “niemand heet zo”.")).to_be_visible()
    page.get_by_role("searchbox", name="Naam").fill(name)
    page.get_by_role("searchbox", name="Naam").press("Enter")
    expect(card).to_contain_text("3 foto’s")

    # New photos of him arrive as suggestions; the person's page decides them.
    first = api.upload_face(johns["John_Salley"][5])
    second = api.upload_face(johns["John_Salley"][6])
    assert first["state"] == second["state"] == "suggested"
    card.get_by_role("link").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.get_by_text("Druk op Y of Enter om te bevestigen")).to_be_visible()
    suggestions = page.locator(".suggestion")
    expect(suggestions).to_have_count(2)

    # Tab onto the first suggestion, then Y; the focus moves on to the next one.
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('suggestion')"):
            break
    expect(suggestions.first).to_be_focused()
    assert suggestions.first.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    decided = suggestions.first.get_attribute("data-face-id")
    page.keyboard.press("y")
    expect(page.locator("#decision-status")).to_have_text("Bevestigd.")
    expect(suggestions).to_have_count(1)
    expect(suggestions.first).to_be_focused()
    expect(page.locator("#pending-count")).to_have_text("(1)")
    remaining = suggestions.first.get_attribute("data-face-id")
    page.keyboard.press("Delete")
    expect(page.locator("#decision-status")).to_have_text(
        "Afgewezen: niet deze persoon. Geen suggesties te controleren."
    )
    expect(page.get_by_role("heading", name="Te controleren suggesties")).to_be_focused()

    person_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert decided and remaining
    assert (api.face(decided)["state"], api.face(decided)["person_id"]) == ("confirmed", person_id)
    assert (api.face(remaining)["state"], api.face(remaining)["person_id"]) == ("unknown", None)
    page.reload()
    expect(page.get_by_text("Geen suggesties te controleren.")).to_be_visible()
    expect(page.locator(".tiles .card")).to_have_count(4)
    page.locator(".tiles .card-link").first.click()  # the library's tiles and lightbox
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_the_decide_forms_work_without_scripts(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    johns: dict[str, list[Path]],
) -> None:
    context = browser.new_context(base_url=server, locale="nl-BE", java_script_enabled=False)
    page = context.new_page()
    officer = make_person(Role.privacy_officer)
    api = Api(server, api_token(ui_runtime, officer))
    named = api.upload_face(johns["John_Schneider"][0])
    person = api.client.post("/api/v1/people", json={"name": "Lies Schneider"}).json()
    api.client.post(f"/api/v1/faces/{named['id']}/confirm", json={"person_id": person["id"]})
    suggested = api.upload_face(johns["John_Schneider"][1])
    assert suggested["state"] == "suggested" and suggested["person_id"] == person["id"]

    log_in(page, officer, path=f"/people/{person['id']}")
    page.locator(".suggestion").get_by_role("button", name="Ja, bevestigen").click()
    expect(page.locator(".flash-success")).to_have_text("Bevestigd.")
    assert api.face(suggested["id"])["state"] == "confirmed"
    context.close()


@dataclass(frozen=True)
class Seeded:
    officer: Person
    person_id: str


@pytest.fixture(scope="module")
def seeded(server: str, ui_runtime: Runtime, johns: dict[str, list[Path]]) -> Seeded:
    """A named person with a pending suggestion, and an unnamed group (made once: the
    same photos uploaded again would be duplicates)."""
    officer = Person(
        f"officer-{secrets.token_hex(4)}@beeldbank.test", PASSWORD, Role.privacy_officer
    )
    with ui_runtime.unit_of_work() as session:
        auth.create_user(session, email=officer.email, password=PASSWORD, role=officer.role)
    api = Api(server, api_token(ui_runtime, officer))
    faces = [api.upload_face(p) for p in johns["John_Shimkus"][:3]]
    person = api.client.post(
        "/api/v1/people", json={"name": "Sam Shimkus", "is_minor": True, "notes": "Testfoto’s"}
    ).json()
    for face in faces:
        api.client.post(f"/api/v1/faces/{face['id']}/confirm", json={"person_id": person["id"]})
    assert api.upload_face(johns["John_Shimkus"][5])["state"] == "suggested"
    api.upload_face(johns["John_Savage"][0])  # an unnamed group
    api.client.post("/api/v1/people", json={"name": "Samuel Shimkus"})  # to merge with
    return Seeded(officer, person["id"])


@pytest.mark.parametrize("lang", LOCALES)
def test_people_pages_have_no_axe_violations(
    browser: Browser, server: str, seeded: Seeded, lang: str
) -> None:
    context = browser.new_context(
        base_url=server, locale=LOCALES[lang], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    log_in(page, seeded.officer, path="/people")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    for path, name in [("/people", "people"), (f"/people/{seeded.person_id}", "person")]:
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        page.wait_for_load_state("networkidle")
        if name == "people":
            page.locator("li.group details summary").first.click()  # the "Wrong?" actions
        else:
            expect(page.locator(".suggestion")).not_to_have_count(0)
        assert_accessible(page)
        screenshot(page, name)
    page.goto(f"/people/{seeded.person_id}")
    picker = page.locator("#merge-name")
    picker.fill("samuel shim")
    expect(page.locator("#merge-name-options [role=option]")).to_have_count(1)
    assert_accessible(page)  # with the merge picker's list open
    picker.press("ArrowDown")
    picker.press("Enter")
    expect(page.locator("form input[name=confirm]")).to_have_count(1)
    assert_accessible(page)
    screenshot(page, "person-merge")
    context.close()
