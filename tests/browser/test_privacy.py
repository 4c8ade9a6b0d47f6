"""The privacy dashboard in Chromium: axe-core finds no violations on the overview, the
review flow and the audit log in Dutch or English (screenshots for review), and one
asset's faces are decided with the keyboard alone (Y confirms the suggestion, N goes to
the name field, D dismisses), after which the flow moves on."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dam import clock
from dam.auth import get_user_by_email
from dam.models import Face, FaceState, Role
from dam.runtime import Runtime
from gdpr.consent import consents, notifications
from gdpr.judgement import verdicts
from gdpr.recognition import people
from tests import media
from tests.browser.conftest import Person, api_token, assert_accessible, log_in, screenshot

LOCALES = {"nl": "nl-BE", "en": "en-GB"}


def upload(server: str, token: str, *, seed: int, title: str) -> str:
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        created = client.post(
            "/api/v1/assets",
            files={"file": (f"p{seed}.jpg", media.jpeg(800, 600, seed=seed), "image/jpeg")},
            data={"title": title},
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


def seed_faces(runtime: Runtime, asset_id: str, *faces: tuple[FaceState, str | None]) -> list[str]:
    """Faces as the detector stores them (left to right), then the asset re-judged."""
    ids = []
    with runtime.unit_of_work() as session:
        for n, (state, person_id) in enumerate(faces):
            face = Face(
                asset_id=asset_id,
                box_x=0.1 + 0.45 * n,
                box_y=0.2,
                box_w=0.3,
                box_h=0.4,
                score=0.99,
                detector="test",
                state=state,
                person_id=person_id,
            )
            session.add(face)
            session.flush()
            ids.append(face.id)
    with runtime.unit_of_work() as session:
        verdicts.refresh(session, [asset_id], settings=runtime.settings)
    return ids


def named(runtime: Runtime, officer: Person, name: str) -> str:
    """A person called `name`, added by the officer."""
    with runtime.session() as session:
        actor = get_user_by_email(session, officer.email)
        data = people.PersonCreate.model_validate({"name": name})
        return people.create_person(session, data=data, actor=actor).id


def ending_consent(runtime: Runtime, officer: Person, person_id: str) -> None:
    """A consent that ends in a week, and the notice about it."""
    today = clock.now().date()
    data = consents.ConsentInput.model_validate(
        {
            "channels": ["website"],
            "granted_at": today - timedelta(days=10),
            "valid_until": today + timedelta(days=7),
        }
    )
    with runtime.session() as session:
        actor = get_user_by_email(session, officer.email)
        consents.record_consent(
            session, person_id=person_id, data=data, actor=actor, settings=runtime.settings
        )
    with runtime.session() as session:
        notifications.notice_endings(session, runtime.settings)
        session.commit()


@pytest.mark.parametrize("lang", LOCALES)
def test_privacy_pages_have_no_axe_violations(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    lang: str,
) -> None:
    officer = make_person(Role.privacy_officer)
    token = api_token(ui_runtime, officer)
    tag = secrets.token_hex(2).upper()
    person_id = named(ui_runtime, officer, f"Noor Dashboard {tag}")
    asset = upload(server, token, seed=secrets.randbelow(10**9), title=f"Receptie {tag}")
    seed_faces(ui_runtime, asset, (FaceState.suggested, person_id), (FaceState.unknown, None))
    ending_consent(ui_runtime, officer, person_id)

    context = browser.new_context(
        base_url=server, locale=LOCALES[lang], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, officer, path="/privacy")
        expect(page.locator("h1")).to_have_text("Privacy")
        expect(page.locator(".main-nav .nav-badge")).to_be_visible()
        assert_accessible(page)
        screenshot(page, "privacy")
        page.goto(f"/privacy/review?asset={asset}")
        expect(page.locator(".review-face[data-undecided]")).to_have_count(2)
        assert_accessible(page)
        screenshot(page, "privacy-review")
        page.goto("/privacy/audit")
        page.locator("form.verify-form button").click()
        expect(page.locator(".flash-success")).to_be_visible()
        assert_accessible(page)
        screenshot(page, "privacy-audit")
    finally:
        context.close()


def test_review_one_asset_with_the_keyboard(
    page: Page, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    officer = make_person(Role.privacy_officer)
    token = api_token(ui_runtime, officer)
    tag = secrets.token_hex(2).upper()
    suggested_person = named(ui_runtime, officer, f"Olaf Toets {tag}")
    asset = upload(server, token, seed=secrets.randbelow(10**9), title=f"Toetsenbord {tag}")
    first, second, third = seed_faces(
        ui_runtime,
        asset,
        (FaceState.suggested, suggested_person),
        (FaceState.unknown, None),
        (FaceState.unknown, None),
    )

    log_in(page, officer, path=f"/privacy/review?asset={asset}")
    expect(page.locator("#review-keys")).to_be_visible()  # the shortcuts are explained
    expect(page.locator(f"#face-{first}")).to_be_focused()

    page.keyboard.press("y")  # the suggestion is right
    expect(page.locator(".flash-success")).to_have_text(
        f"Gezicht 1 is bevestigd als Olaf Toets {tag}."
    )
    expect(page.locator(f"#face-{second}")).to_be_focused()

    page.keyboard.press("n")  # someone new: type the name
    name_field = page.locator(f"#name-{second}")
    expect(name_field).to_be_focused()
    page.keyboard.type(f"Petra Nieuw {tag}")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_have_text(
        f"Gezicht 2 is bevestigd als Petra Nieuw {tag}."
    )
    expect(page.locator(f"#face-{third}")).to_be_focused()

    page.keyboard.press("d")  # not a face: the asset is done, the flow moves on
    expect(page.locator(".flash-success")).to_have_text("Gezicht 3 is afgewezen.")
    page.wait_for_url(lambda url: f"asset={asset}" not in url)
    screenshot(page, "privacy-review-next")

    with ui_runtime.session() as session:
        faces = {f: session.get(Face, f) for f in (first, second, third)}
    states = {f: (x.state, x.person_id) for f, x in faces.items() if x is not None}
    assert states[first] == (FaceState.confirmed, suggested_person)
    assert states[second][0] == FaceState.confirmed and states[second][1] != suggested_person
    assert states[third] == (FaceState.dismissed, None)
