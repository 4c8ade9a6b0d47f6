"""DAM_TRUSTED_PROXIES: whose X-Forwarded-For is believed, and the rate limits that key on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dam import migrate
from dam.runtime import build_runtime
from dam.settings import Settings, SettingsError, load_settings
from tests.conftest import Account
from tests.ui_client import PASSWORD, csrf_of
from web.app import create_app
from web.proxies import server_options
from web.ui import ratelimit

pytestmark = pytest.mark.one_database


@pytest.fixture
def client_for(settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """A TestClient connecting from `address`, on an app with `trusted_proxies`."""
    opened = []

    def make(*, address: str, trusted: str = "") -> TestClient:
        runtime = build_runtime(settings_factory(trusted_proxies=trusted))
        migrate.upgrade(runtime.engine)
        client = TestClient(create_app(runtime), client=(address, 40000))
        opened.append((client, runtime))
        return client.__enter__()

    yield make
    for client, runtime in opened:
        client.__exit__(None, None, None)
        runtime.close()


def _fail(client: TestClient, email: str, forwarded_for: str, password: str = "wrong") -> int:  # noqa: S107
    token = csrf_of(client.get("/login"))
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
        follow_redirects=False,
    ).status_code


@pytest.mark.parametrize(
    ("address", "trusted"),
    [("127.0.0.1", ""), ("10.0.0.5", ""), ("10.0.0.5", "192.168.1.1,10.1.0.0/16")],
)
def test_rotating_x_forwarded_for_from_an_untrusted_client_is_still_limited(
    client_for: Callable[..., TestClient], creative: Account, address: str, trusted: str
) -> None:
    client = client_for(address=address, trusted=trusted)
    email = creative.user.email
    for n in range(ratelimit.PER_ACCOUNT):
        assert _fail(client, email, f"203.0.113.{n}") == 401
    # A new "address" in the header changes nothing: the connection is what counts.
    assert _fail(client, email, "198.51.100.77", password=PASSWORD) == 429


def test_a_trusted_proxy_names_the_client(
    client_for: Callable[..., TestClient], creative: Account
) -> None:
    client = client_for(address="10.0.0.5", trusted="10.0.0.0/8")
    email = creative.user.email
    # Each forwarded client has its own count: many people behind one proxy.
    for n in range(ratelimit.PER_ACCOUNT + 2):
        assert _fail(client, email, f"203.0.113.{n}") == 401
    # The client is the rightmost address that is not a trusted proxy: a second proxy
    # (10.9.9.9) is skipped, and whatever the client wrote to the left does not count.
    for n in range(ratelimit.PER_ACCOUNT):
        chain = "198.51.100.7" if n % 2 else f"1.2.3.{n}, 198.51.100.7, 10.9.9.9"
        assert _fail(client, email, chain) == 401
    assert _fail(client, email, "198.51.100.7", password=PASSWORD) == 429
    assert _fail(client, email, "198.51.100.8", password=PASSWORD) == 303


def test_the_setting_is_checked_and_canonical() -> None:
    assert load_settings(trusted_proxies="").trusted_proxy_list == []
    assert load_settings(trusted_proxies=" 10.0.0.1/8, ::1 ,192.168.2.3").trusted_proxy_list == [
        "10.0.0.0/8",
        "::1/128",
        "192.168.2.3/32",
    ]
    with pytest.raises(SettingsError, match="DAM_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="10.0.0.1,proxy.example.org")


def test_uvicorn_does_not_trust_forwarded_headers_itself() -> None:
    """uvicorn's default trusts 127.0.0.1; `dam serve` turns that off (the app decides)."""

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        pass

    def layers(config: uvicorn.Config) -> list[object]:
        config.load()
        found, layer = [], config.loaded_app
        while layer is not None:
            found.append(layer)
            layer = getattr(layer, "app", None)
        return found

    def trusts_headers(config: uvicorn.Config) -> bool:
        return any(isinstance(layer, ProxyHeadersMiddleware) for layer in layers(config))

    assert not trusts_headers(uvicorn.Config(app, **server_options()))
    assert trusts_headers(uvicorn.Config(app))  # uvicorn's default, which this guards against
