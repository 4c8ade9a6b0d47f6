"""Every page, in Dutch and in English: axe-core finds no violations; screenshots for review.
The privacy officer's pages have a run of their own here (and in test_privacy.py,
test_people.py and test_consents.py).

Also: the pages fit a phone's width without sideways scrolling.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from dam.auth import get_user_by_email
from dam.models import Job, JobStatus, Role
from dam.runtime import Runtime
from gdpr.requests import erasure, person_requests
from tests import media
from tests.browser.conftest import Person, api_token, assert_accessible, log_in, screenshot
from tests.browser.test_consents import Setup, make_setup
from tests.browser.test_privacy import named

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


@pytest.mark.parametrize("lang", LOCALES)
def test_the_privacy_officers_pages_have_no_axe_violations(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_setup: Callable[[], Setup],
    lang: str,
) -> None:
    """The officer's own pages in both languages (issue 15: the English run left out the
    request, erasure and consent pages): the dashboard with a person found and requests
    under way, an export's and an erasure's page (running, with its progress in files, and
    ended), the erasure page (and its refusal), the consent forms, the biometric data's
    confirmation and the notices. The dashboard, review, audit, person and withdrawal
    pages have their own runs (test_privacy.py, test_people.py, test_consents.py)."""
    setup = make_setup()
    officer, person_id = setup.officer, setup.person_id
    token = api_token(ui_runtime, officer)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers, timeout=120) as api:
        export = api.post(f"/api/v1/people/{person_id}/export-requests").json()
        export = api.get(export["status_url"]).json()  # the queue ran it at its commit
        assert export["status"] == "done", export
        consent_id = api.get(f"/api/v1/people/{person_id}").json()["consents"][0]["id"]
    with Session(ui_runtime.engine, expire_on_commit=False) as session:
        actor = get_user_by_email(session, officer.email)
        running = person_requests.request_erasure(
            session, person_id=person_id, assets=erasure.AssetsChoice.redact, actor=actor
        )
        job = session.get(Job, running.id)
        assert job is not None
        job.status, job.progress = JobStatus.running, 1.5 / 3
        job.params = {**(job.params or {}), "files": 3}
        session.add(job)
        session.commit()
    other_name = f"Tweede Persoon {secrets.token_hex(2).upper()}"
    other = named(ui_runtime, officer, other_name)

    context = browser.new_context(
        base_url=server, locale=LOCALES[lang], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, officer, path=f"/privacy?person={setup.name.split()[-1]}#start")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator(".person-found li")).to_have_count(1)
        expect(page.locator(".request-list progress")).not_to_have_count(0)
        check(page, "privacy-requests")
        for path, name in [
            (f"/privacy/requests/{export['id']}", "privacy-export-ready"),
            (f"/privacy/requests/{running.id}", "privacy-erasure-running"),
            (f"/people/{person_id}/consents/new", "consent-new"),
            (f"/consents/{consent_id}/change", "consent-change"),
            (f"/consents/{consent_id}/withdraw", "consent-withdraw-one"),
            ("/notices", "notices"),
            (f"/people/{other}/erase", "privacy-erase"),
        ]:
            page.goto(path)
            check(page, name)
        # The erasure refused (no name typed), then done: the tombstone.
        page.locator("#assets-delete").check()
        page.locator("main form button.danger").click()
        expect(page.locator("#error-confirm_name")).to_be_visible()
        check(page, "privacy-erase-refused")
        page.locator("#assets-delete").check()
        page.locator("#confirm-name").fill(other_name)
        page.locator("main form button.danger").click()
        expect(page.locator("#tombstone")).to_be_visible()
        check(page, "privacy-erased")
        # Deleting a person's biometric data asks first.
        page.goto(f"/people/{person_id}")
        page.locator(f"form[action='/people/{person_id}/embeddings'] button").click()
        check(page, "person-embeddings-confirm")
    finally:
        context.close()


__all__ = ["make_setup"]  # the fixture, shared with the consent tests
