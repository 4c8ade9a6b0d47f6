"""The asset page's people picker in Chromium, by keyboard alone: typing part of a name lists
matching people from the server (hidden ones not, for a creative), Down moves through them
with aria-activedescendant, Enter confirms the face as the one chosen (a namesake told
apart by id), Escape closes the list and a second one empties the field; axe-core finds
nothing with the list open."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from dam.auth import get_user_by_email
from dam.models import Face, FaceState, Role
from dam.runtime import Runtime
from gdpr.recognition import people
from tests.browser.conftest import Person, api_token, assert_accessible, log_in, screenshot
from tests.browser.test_privacy import seed_faces, upload


def add_people(runtime: Runtime, officer: Person, *named: tuple[str, bool]) -> list[str]:
    with runtime.session() as session:
        actor = get_user_by_email(session, officer.email)
        return [
            people.create_person(
                session,
                data=people.PersonCreate.model_validate({"name": name, "hidden": hidden}),
                actor=actor,
            ).id
            for name, hidden in named
        ]


def test_a_face_is_named_with_the_keyboard_through_the_picker(
    page: Page, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    officer = make_person(Role.privacy_officer)
    asset_id = upload(server, api_token(ui_runtime, officer), seed=7101, title="Dorpsfeest")
    first, second = seed_faces(
        ui_runtime, asset_id, (FaceState.unknown, None), (FaceState.unknown, None)
    )
    # Two people share a name; an older one is already on a photo, a hidden one is not found.
    _, older, _, _ = add_people(
        ui_runtime,
        officer,
        ("Annelies Pickerveld", False),
        ("Jozef Pickerveld", False),
        ("Jozef Pickerveld", False),
        ("Hilde Pickerveld", True),
    )
    seed_faces(ui_runtime, upload(server, api_token(ui_runtime, officer), seed=7102,
                                  title="Receptie"), (FaceState.confirmed, older))  # fmt: skip

    log_in(page, make_person(Role.creative), path=f"/assets/{asset_id}")
    page.get_by_role("tab", name="Personen").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Gezicht 1 bevestigen of afwijzen").focus()
    page.keyboard.press("Enter")  # opens the face's forms
    field = page.get_by_role("combobox", name="Wie is dit?").first
    field.focus()
    expect(field).to_have_attribute("aria-expanded", "false")
    page.keyboard.type("pickerv")
    options = page.get_by_role("listbox", name="Gevonden personen").get_by_role("option")
    expect(options).to_have_text(
        ["Annelies Pickerveld 0 foto’s", "Jozef Pickerveld 1 foto", "Jozef Pickerveld 0 foto’s"]
    )
    expect(field).to_have_attribute("aria-expanded", "true")
    expect(page.locator("[data-picker-status]").first).to_have_text(
        "3 personen gevonden, kies met de pijltjestoetsen."
    )
    assert field.get_attribute("aria-activedescendant") is None
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    active = options.nth(1).get_attribute("id")
    expect(field).to_have_attribute("aria-activedescendant", str(active))
    assert page.evaluate("document.activeElement.getAttribute('role')") == "combobox"
    assert_accessible(page)  # with the list open
    field.scroll_into_view_if_needed()
    screenshot(page, "person-picker")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_have_text("Gezicht 1 is bevestigd.")
    expect(page.get_by_role("link", name="Gezicht 1: Jozef Pickerveld (bevestigd)")).to_be_visible()
    with ui_runtime.session() as session:
        face = session.get(Face, first)
        assert face is not None and face.person_id == older  # the one chosen, not a namesake
        assert face.state == FaceState.confirmed

    # Escape closes the list and keeps the words; a second Escape empties the field.
    page.get_by_role("tab", name="Personen").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Gezicht 2 bevestigen of afwijzen").focus()
    page.keyboard.press("Enter")
    field = page.locator(f"#face-person-{second}")
    field.focus()
    page.keyboard.type("anne")
    expect(page.locator(f"#face-person-{second}-options [role=option]")).to_have_text(
        ["Annelies Pickerveld 0 foto’s"]
    )
    page.keyboard.press("ArrowDown")
    expect(field).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(page.locator(f"#face-person-{second}-options")).to_be_hidden()
    assert field.get_attribute("aria-activedescendant") is None
    expect(field).to_have_value("anne")
    page.keyboard.press("Escape")
    expect(field).to_have_value("")
    # Nobody matches: said, and no list.
    page.keyboard.type("zzzonbekend")
    expect(page.locator("[data-picker-status]").nth(1)).to_have_text(
        "Niemand gevonden met deze naam."
    )
    expect(field).to_have_attribute("aria-expanded", "false")
    with ui_runtime.session() as session:
        face = session.get(Face, second)
        assert face is not None and face.state == FaceState.unknown


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_without_scripts_a_page_of_matches_names_the_face(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    lang: str,
) -> None:
    officer = make_person(Role.privacy_officer)
    token = api_token(ui_runtime, officer)
    asset_id = upload(server, token, seed=7110 + ord(lang[0]), title="Markt")
    (face,) = seed_faces(ui_runtime, asset_id, (FaceState.unknown, None))
    word = f"Zoekpagina{lang}"
    add_people(ui_runtime, officer, (f"Bram {word}", False), (f"Bo {word}", True))
    locale = {"nl": "nl-BE", "en": "en-GB"}[lang]
    plain = browser.new_context(base_url=server, locale=locale, java_script_enabled=False)
    page = plain.new_page()
    log_in(page, officer, path=f"/assets/{asset_id}")
    page.locator(f"#face-{face} summary").click()  # the face's forms
    page.locator(f"#face-person-{face}").fill(word.lower())
    page.locator(f"#face-{face} button[name=search]").click()  # the button scripts hide
    page.wait_for_url(f"**/assets/{asset_id}/faces/{face}/people?name={word.lower()}")
    matches = page.url
    buttons = page.locator(".person-matches button")
    expect(buttons).to_have_count(2)  # an officer finds the hidden one too
    buttons.last.click()
    page.wait_for_url(f"**/assets/{asset_id}#face-{face}")
    with ui_runtime.session() as session:
        decided = session.get(Face, face)
        assert decided is not None and decided.state == FaceState.confirmed
    plain.close()
    # axe-core runs as a script: the same page in a browser that runs them.
    scripted = browser.new_context(base_url=server, locale=locale)
    page = scripted.new_page()
    log_in(page, officer, path=matches)
    expect(page.locator(".person-matches button")).to_have_count(2)
    assert_accessible(page)
    scripted.close()


def test_the_review_flow_names_a_face_through_the_picker(
    page: Page, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    officer = make_person(Role.privacy_officer)
    asset_id = upload(server, api_token(ui_runtime, officer), seed=7120, title="Optocht")
    first, _second = seed_faces(
        ui_runtime, asset_id, (FaceState.unknown, None), (FaceState.unknown, None)
    )
    (hidden,) = add_people(ui_runtime, officer, ("Wanda Reviewpicker", True))
    log_in(page, officer, path=f"/privacy/review?asset={asset_id}")
    expect(page.locator(f"#face-{first}")).to_be_focused()
    page.keyboard.press("n")  # the review flow's key for the name field
    field = page.locator(f"#name-{first}")
    expect(field).to_be_focused()
    page.keyboard.type("reviewpick")
    option = page.locator(f"#name-{first}-options [role=option]")
    expect(option).to_have_text(["Wanda Reviewpicker 0 foto’s"])  # hidden: officers find her
    # Escape closes the list and leaves focus in the field (the flow's Escape waits).
    page.keyboard.press("Escape")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(field).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_have_text(
        "Gezicht 1 is bevestigd als Wanda Reviewpicker."
    )
    with ui_runtime.session() as session:
        face = session.get(Face, first)
        assert face is not None and face.person_id == hidden
