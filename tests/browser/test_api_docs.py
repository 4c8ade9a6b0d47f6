"""/docs works on a network that reaches no other site: every request the page makes to
another host is blocked, and Swagger UI (from the swagger-ui-bundle-v2 package, served by
Beeldbank) still renders the API's operations."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Browser, Route, expect


def test_api_docs_render_with_every_other_host_blocked(browser: Browser, server: str) -> None:
    context = browser.new_context(base_url=server, locale="en-GB")
    own_host = urlsplit(server).netloc
    elsewhere: list[str] = []

    def only_beeldbank(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own_host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_beeldbank)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto("/docs")
    assert response is not None and response.status == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Beeldbank")
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/assets/{asset_id}").first
    ).to_be_visible()
    assert elsewhere == [] and errors == []
    context.close()
