"""A real OpenID Provider for the single sign-on tests: oidc-provider under node.

`tests/oidc/provider.mjs` runs it on a free loopback port (installed by scripts/test with
`npm ci`). Clients register themselves through Dynamic Client Registration, so each test
registers the redirect address of its own server; accounts live in a JSON file the
provider reads at every login, so a test can change someone's groups between two logins.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import unavailable

HERE = Path(__file__).resolve().parent / "oidc"
# Node loads oidc-provider and its dependencies before it answers: seconds on a quiet
# machine, more than 20 s once under a full suite beside other work (load 13).
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class IdpAccount:
    login: str
    password: str
    email: str
    name: str


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


@dataclass
class Provider:
    issuer: str
    config: Path
    accounts: dict[str, dict[str, object]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_account(self, *, groups: list[str], name: str = "An Peeters") -> IdpAccount:
        login = f"user-{secrets.token_hex(4)}"
        account = IdpAccount(login, f"pw-{secrets.token_hex(6)}", f"{login}@example.test", name)
        self.set_groups(account, groups, name=name)
        return account

    def set_groups(self, account: IdpAccount, groups: list[str], *, name: str = "") -> None:
        with self.lock:
            self.accounts[account.login] = {
                "password": account.password,
                "email": account.email,
                "name": name or account.name,
                "groups": groups,
            }
            self.config.write_text(json.dumps({"accounts": self.accounts}))

    def register(self, base_url: str) -> Client:
        """A new client whose redirect addresses are those of the server at `base_url`."""
        response = httpx.post(
            f"{self.issuer}/reg",
            json={
                "redirect_uris": [f"{base_url}/login/sso/callback"],
                "post_logout_redirect_uris": [f"{base_url}/login"],
                "client_name": "Beeldbank",
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Client(body["client_id"], body["client_secret"])

    def sign_in(self, http: httpx.Client, authorize_url: str, account: IdpAccount) -> str:
        """Go through the provider's login as a browser would (without one); return the
        address it sends the browser back to (our callback, with code and state)."""
        url = authorize_url
        for _ in range(10):
            response = http.get(url)
            if response.status_code == 200 and "<form" in response.text:
                action = urljoin(url, _form_action(response.text))
                response = http.post(
                    action, data={"login": account.login, "password": account.password}
                )
            assert response.status_code in (302, 303), response.text[:500]
            url = urljoin(url, response.headers["location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider never sent the browser back")

    def origin_of(self, url: str) -> bool:
        return urlsplit(url)[:2] == urlsplit(self.issuer)[:2]


def _form_action(html: str) -> str:
    start = html.index('action="') + len('action="')
    return html[start : html.index('"', start)]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        unavailable(
            "the test OpenID Provider is not installed: scripts/test runs `npm ci` in "
            "tests/oidc (needs node and npm)"
        )
        raise AssertionError("unreachable")
    config = tmp_path_factory.mktemp("oidc") / "accounts.json"
    config.write_text(json.dumps({"accounts": {}}))
    log = config.with_name("provider.log")
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [node, str(HERE / "provider.mjs"), str(config)],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    assert process.stdout is not None
    ready: list[str] = []
    reader = threading.Thread(target=lambda: ready.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_S)
    if not ready or not ready[0].startswith("ready "):
        process.kill()
        process.wait(timeout=5)
        raise RuntimeError(f"the test OpenID Provider did not start: {log.read_text()[-2000:]}")
    try:
        yield Provider(issuer=ready[0].split()[1], config=config)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
