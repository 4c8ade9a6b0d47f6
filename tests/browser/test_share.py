"""A share link in Chromium, logged out: the share page and the embed page (inside an
iframe on another origin) show the picture, pass axe, set no cookie on the embed and
load nothing from anywhere but Beeldbank; a revoked link says so."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, expect

from dam.models import Role
from dam.runtime import Runtime
from tests import media
from tests.browser.conftest import Person, api_token, assert_accessible, screenshot
from tests.live_server import running

LOCALES = {"nl": "nl-BE", "en": "en-GB"}


def make_link(server: str, token: str, seed: int, **body: object) -> tuple[str, str]:
    """A photo with alt text and a link for internal use; (link id, share token)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        asset = client.post(
            "/api/v1/assets",
            files={"file": (f"park-{seed}.jpg", media.jpeg(seed=seed), "image/jpeg")},
            data={"title": "Zomerfeest in het park"},
        ).json()["id"]
        client.patch(f"/api/v1/assets/{asset}", json={"alt_text": "Mensen dansen op het gras"})
        created = client.post(
            f"/api/v1/assets/{asset}/shares", json={"channel": "internal", **body}
        ).json()
    return str(created["id"]), str(created["token"])


@pytest.mark.parametrize("lang", LOCALES)
def test_share_and_embed_pages_logged_out(
    browser: Browser,
    server: str,
    ui_runtime: Runtime,
    make_person: Callable[..., Person],
    lang: str,
) -> None:
    creative = make_person(Role.creative)
    api = api_token(ui_runtime, creative)
    link_id, token = make_link(server, api, seed=3101 if lang == "nl" else 3102)
    context = browser.new_context(base_url=server, locale=LOCALES[lang])
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"/s/{token}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=1)).to_have_text("Zomerfeest in het park")
    picture = page.get_by_role("img", name="Mensen dansen op het gras")
    expect(picture).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert picture.evaluate("img => img.naturalWidth") == 640
    expect(
        page.get_by_role("link", name="Download" if lang == "en" else "Downloaden")
    ).to_be_visible()
    assert_accessible(page)
    screenshot(page, "share")

    # The embed inside an iframe of a page on another site: a second real server, reached
    # as "localhost" (a page Playwright made up would count as public, and Chromium keeps
    # public pages from framing loopback addresses).
    host_app = FastAPI()

    @host_app.get("/")
    def host_page() -> HTMLResponse:
        return HTMLResponse(
            '<!doctype html><html lang="en"><title>Host</title><main><h1>Host</h1>'
            f'<iframe src="{server}/embed/{token}" title="Shared" width="640" height="480">'
            "</iframe></main></html>"
        )

    with running(host_app) as host_server:
        host_url = host_server.replace("127.0.0.1", "localhost") + "/"
        page.goto(host_url)
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("img", name="Mensen dansen op het gras")).to_be_visible()
        page.wait_for_load_state("networkidle")
        screenshot(page, "embed-in-host")

    page.goto(f"/embed/{token}")
    expect(page.get_by_role("img", name="Mensen dansen op het gras")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert_accessible(page)
    screenshot(page, "embed")
    ours = urlsplit(server).netloc
    host_netloc = urlsplit(host_url).netloc
    foreign = [u for u in requested if urlsplit(u).netloc not in (ours, host_netloc)]
    assert foreign == []
    cookies = context.cookies()
    assert cookies == [], cookies  # neither the share page nor the embed set one

    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {api}"}) as client:
        assert client.delete(f"/api/v1/shares/{link_id}").status_code == 200
    response = page.goto(f"/s/{token}")
    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Deze link werkt niet (meer)" if lang == "nl" else "This link does not work (any more)"
    )
    assert_accessible(page)
    screenshot(page, "share-revoked")
    context.close()


def test_password_page_opens_with_the_right_password(
    browser: Browser, server: str, ui_runtime: Runtime, make_person: Callable[..., Person]
) -> None:
    creative = make_person(Role.creative)
    _, token = make_link(
        server, api_token(ui_runtime, creative), seed=3103, password="zomer in gent"
    )
    context = browser.new_context(base_url=server, locale="nl-BE")
    page = context.new_page()
    page.goto(f"/s/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze link is beveiligd")
    assert_accessible(page)
    screenshot(page, "share-password")
    page.get_by_label("Wachtwoord").fill("niet het wachtwoord")
    page.get_by_role("button", name="Openen").click()
    expect(page.get_by_role("alert")).to_contain_text("Dat wachtwoord klopt niet")
    assert_accessible(page)
    page.get_by_label("Wachtwoord").fill("zomer in gent")
    page.get_by_role("button", name="Openen").click()
    expect(page.get_by_role("img", name="Mensen dansen op het gras")).to_be_visible()
    [cookie] = context.cookies()
    assert cookie["name"] == "beeldbank_share" and cookie["path"] == f"/s/{token}"
    assert cookie["httpOnly"] is True
    context.close()
