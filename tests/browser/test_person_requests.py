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

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from dam.auth import get_user_by_email
from dam.models import FaceState, Job, JobStatus, Role
from dam.runtime import Runtime
from gdpr.requests import erasure, person_requests
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


def _set_job(runtime: Runtime, job_id: str, **values: object) -> None:
    """What the worker running the erasure writes (the pages only read it)."""
    with Session(runtime.engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        for key, value in values.items():
            setattr(job, key, value)
        session.add(job)
        session.commit()


def test_an_erasures_progress_follows_it_while_it_runs(
    page: Page, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    """The request's page and the dashboard show a running erasure's files done of how
    many, as a <progress> bar and in words, and follow it without a reload; once it ends,
    the page shows the end and the dashboard says so in place."""
    officer = make_person(Role.privacy_officer)
    name = f"Voortgang Volger {secrets.token_hex(3).upper()}"
    person_id = named(ui_runtime, officer, name)
    with Session(ui_runtime.engine, expire_on_commit=False) as session:
        actor = get_user_by_email(session, officer.email)
        job = person_requests.request_erasure(
            session, person_id=person_id, assets=erasure.AssetsChoice.redact, actor=actor
        )
    job_id = job.id
    log_in(page, officer, path=f"/privacy/requests/{job_id}")
    expect(page.locator("#request-status")).to_have_text("Wacht om te starten")
    # A worker takes it and counts its files: the page says so without a reload.
    _set_job(ui_runtime, job_id, status=JobStatus.running, progress=3.5 / 8,
             params={**(job.params or {}), "files": 8})  # fmt: skip
    expect(page.locator("#request-status")).to_have_text("Bezig", timeout=10_000)
    bar = page.get_by_role("progressbar", name="Voortgang")
    expect(bar).to_have_attribute("max", "8")
    assert bar.evaluate("b => b.value") == pytest.approx(3.5)
    words = page.locator("#request-state .request-progress-text")
    expect(words).to_have_text("3 van 8 bestanden verwerkt")
    assert_accessible(page)
    screenshot(page, "privacy-erasure-progress")
    # The worker gets on (a video half blurred): the page follows without a reload.
    _set_job(ui_runtime, job_id, progress=5.5 / 8)
    expect(words).to_have_text("5 van 8 bestanden verwerkt", timeout=10_000)
    assert bar.evaluate("b => b.value") == pytest.approx(5.5)

    other = page.context.new_page()
    other.goto("/privacy")
    item = other.locator(".request-list li", has_text=name)
    expect(item.get_by_role("progressbar", name="Voortgang")).to_have_attribute("max", "8")
    expect(item).to_contain_text("5 van 8 bestanden verwerkt")
    assert_accessible(other)
    _set_job(ui_runtime, job_id, progress=7 / 8)
    expect(item).to_contain_text("7 van 8 bestanden verwerkt", timeout=10_000)

    # Done: its page shows the end; the dashboard's line says so in place.
    _set_job(ui_runtime, job_id, status=JobStatus.done, progress=1.0)
    expect(page.get_by_role("heading", name="De persoon is gewist")).to_be_visible(timeout=10_000)
    expect(item).to_contain_text("klaar", timeout=10_000)
    expect(item.get_by_role("progressbar")).to_have_count(0)
    other.close()
