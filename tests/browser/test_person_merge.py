"""Merging two people from a person's page in Chromium: by keyboard alone through the people
picker (which never offers the person themself, and tells namesakes apart by id), then the
confirmation page; and the same without scripts through the page of matches (axe-core finds
nothing on it)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from dam.models import Person as PersonRow
from dam.models import Role
from dam.runtime import Runtime
from tests.browser.conftest import Person, assert_accessible, log_in
from tests.browser.test_person_picker import add_people


def gone(runtime: Runtime, person_id: str) -> bool:
    with runtime.session() as session:
        return session.get(PersonRow, person_id) is None


def test_merge_by_keyboard_through_the_picker(
    page: Page, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    officer = make_person(Role.privacy_officer)
    me, namesake, other = add_people(
        ui_runtime,
        officer,
        ("Merel Samenvoeg", False),
        ("Merel Samenvoeg", False),
        ("Mark Samenvoeg", False),
    )
    log_in(page, officer, path=f"/people/{me}")
    field = page.get_by_role("combobox", name="De andere persoon")
    field.focus()
    page.keyboard.type("samenv")
    options = page.get_by_role("listbox", name="Gevonden personen").get_by_role("option")
    expect(options).to_have_text(["Mark Samenvoeg 0 foto’s", "Merel Samenvoeg 0 foto’s"])
    assert options.nth(1).get_attribute("data-id") == namesake  # never the person themself
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(field).to_have_attribute(
        "aria-activedescendant", str(options.nth(1).get_attribute("id"))
    )
    page.keyboard.press("Escape")  # closes the list, keeps the name
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).to_have_value("samenv")
    page.keyboard.press("ArrowDown")  # opens it again on the first
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # chooses the namesake: the confirmation page

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Merel Samenvoeg samenvoegen met Merel Samenvoeg?"
    )
    yes = page.get_by_role("button", name="Ja, samenvoegen")
    for _ in range(40):
        page.keyboard.press("Tab")
        if yes.evaluate("el => el === document.activeElement"):
            break
    expect(yes).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_have_text("De twee personen zijn samengevoegd.")
    expect(page).to_have_url(re.compile(f"/people/{me}$"))
    assert gone(ui_runtime, namesake) and not gone(ui_runtime, other) and not gone(ui_runtime, me)

    page.goto(f"/people/{me}/merge?name=samenv")  # the page without scripts, for axe too
    expect(page.locator(".person-matches").get_by_role("button")).to_have_text(
        ["Mark Samenvoeg samenvoegen met Merel Samenvoeg…"]
    )
    assert_accessible(page)


def test_merge_without_scripts_through_the_page_of_matches(
    browser: Browser, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    context = browser.new_context(base_url=server, locale="nl-BE", java_script_enabled=False)
    page = context.new_page()
    officer = make_person(Role.privacy_officer)
    me, other = add_people(
        ui_runtime, officer, ("Wout Zonderscript", False), ("Wouter Zonderscript", False)
    )
    log_in(page, officer, path=f"/people/{me}")
    page.get_by_label("De andere persoon").fill("zonderscript")
    page.get_by_role("button", name="Samenvoegen…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Wie voeg je samen met Wout Zonderscript?"
    )
    buttons = page.locator(".person-matches").get_by_role("button")
    expect(buttons).to_have_text(["Wouter Zonderscript samenvoegen met Wout Zonderscript…"])
    buttons.first.click()
    page.get_by_role("button", name="Ja, samenvoegen").click()
    expect(page.locator(".flash-success")).to_have_text("De twee personen zijn samengevoegd.")
    assert gone(ui_runtime, other) and not gone(ui_runtime, me)
    context.close()
