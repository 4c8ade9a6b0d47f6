"""Single sign-on in a real browser against a real OpenID Provider, on both databases:
the button on the login page, the provider's login, back in Beeldbank with the role the
groups give, and the logout that ends the provider's session too."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, expect

from dam import migrate
from dam.models import Role
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from tests import db_templates
from tests.browser.conftest import assert_accessible, screenshot
from tests.live_server import base_url, free_socket, running
from tests.oidc_provider import Provider
from tests.test_sso import ROLE_MAP, user_of
from web.app import create_app


@pytest.fixture
def sso_server(
    settings_factory: Callable[..., Settings], oidc_provider: Provider
) -> Iterator[tuple[str, Runtime]]:
    sock = free_socket()
    url = base_url(sock)
    client = oidc_provider.register(url)  # its redirect address is this server's
    runtime = build_runtime(
        settings_factory(
            public_url=url,
            oidc_issuer=oidc_provider.issuer,
            oidc_client_id=client.client_id,
            oidc_client_secret=client.client_secret,
            oidc_name="Test-IdP",
            oidc_scopes="openid email profile groups",
            oidc_role_map=ROLE_MAP,
        )
    )
    if not db_templates.at_head(runtime.engine):
        migrate.upgrade(runtime.engine)
    try:
        with running(create_app(runtime), sock=sock) as served:
            yield served, runtime
    finally:
        runtime.close()


def test_log_in_and_out_through_the_identity_provider(
    browser: Browser, sso_server: tuple[str, Runtime], oidc_provider: Provider
) -> None:
    url, runtime = sso_server
    account = oidc_provider.add_account(groups=["beeldbank-editors"], name="Els Wouters")
    context = browser.new_context(
        base_url=url, locale="nl-BE", viewport={"width": 360, "height": 800}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/collections")
        button = page.get_by_role("link", name="Aanmelden met Test-IdP")
        expect(button).to_be_visible()
        assert_accessible(page)
        screenshot(page, "login-sso")
        button.click()

        # At the provider (its own page, in English).
        page.get_by_label("User name").fill(account.login)
        page.get_by_label("Password").fill(account.password)
        page.get_by_role("button", name="Sign in").click()

        page.wait_for_url(f"{url}/collections")
        expect(page.locator(".who")).to_have_text(account.email)
        expect(page.get_by_role("link", name="Uploaden")).to_be_visible()  # a creative
        user = user_of(runtime, account)
        assert user is not None and user.role == Role.creative

        page.get_by_role("button", name="Afmelden").click()
        page.get_by_role("button", name="Yes, sign me out").click()
        page.wait_for_url(f"{url}/login")
        expect(page.get_by_text("Je bent afgemeld.")).to_be_visible()

        # The provider's session ended too: signing on asks for the password again.
        page.get_by_role("link", name="Aanmelden met Test-IdP").click()
        expect(page.get_by_label("Password")).to_be_visible()
        assert page.url.startswith(oidc_provider.issuer)
    finally:
        context.close()
