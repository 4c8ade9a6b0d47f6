"""The library on a phone (360 px): the filters fold behind a button, the selection bar
sticks to the top only while something is selected, and a viewer, whose only action on a
selection is the ZIP download, gets only that."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, expect

from dam.models import Role
from dam.runtime import Runtime
from search.service import service_for
from tests.browser.conftest import Person, api_token, log_in
from tests.browser.test_library import seed

PHONE = {"width": 360, "height": 740}


def test_filters_fold_and_the_bar_sticks_only_with_a_selection(
    browser: Browser, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    creative = make_person(Role.creative)
    seed(server, api_token(ui_runtime, creative), 3, first_seed=520)
    # The facets come from the search index: without this the page can be served before
    # the uploads are indexed, with no facet to fold (seen once in CI).
    assert service_for(ui_runtime).sync.flush()  # the live server runs in this process
    context = browser.new_context(base_url=server, locale="nl-BE", viewport=PHONE)
    page = context.new_page()
    log_in(page, creative, path="/?mine=1")
    filters = page.locator(".facets-toggle > summary")
    expect(filters).to_contain_text("Filters (actief)")  # "only my uploads" is on
    facets = page.locator(".facets fieldset").first
    expect(filters).to_be_visible()
    expect(facets).to_be_hidden()
    # The first photo is on the first screen, not below the filters.
    first_card = page.locator("#grid .card").first
    assert first_card.bounding_box()["y"] < PHONE["height"] - 100  # type: ignore[index]
    filters.click()
    expect(facets).to_be_visible()
    filters.click()
    expect(facets).to_be_hidden()

    bar = page.locator("#bulk")
    expect(bar).to_have_css("position", "static")
    expect(page.locator("#bulk button[value=tag]")).to_be_hidden()
    page.locator("#grid input.select").first.check()
    expect(bar).to_have_css("position", "sticky")
    expect(page.locator("#bulk button[value=tag]")).to_be_visible()
    page.locator("#grid input.select").first.uncheck()
    expect(bar).to_have_css("position", "static")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Wide again: the filters are simply there, without a button.
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(facets).to_be_visible()
    expect(filters).to_be_hidden()
    context.close()


def test_viewers_get_only_the_zip_download_for_a_selection(
    browser: Browser, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    seed(server, api_token(ui_runtime, make_person(Role.creative)), 2, first_seed=530)
    context = browser.new_context(base_url=server, locale="nl-BE", viewport=PHONE)
    page = context.new_page()
    log_in(page, make_person(Role.viewer))
    expect(page.locator("#grid .card").first).to_be_visible()
    assert page.locator("#grid input.select").count() >= 2  # one box per card
    bar = page.locator("#bulk")
    # The actions show once something is selected; the ZIP download is the only one.
    expect(bar.locator('button[formaction="/downloads/zip"]')).to_have_count(1)
    for action in ("tag", "collect", "delete"):
        expect(bar.locator(f'button[value="{action}"]')).to_have_count(0)
    context.close()
