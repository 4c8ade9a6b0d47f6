"""Browser tests: Playwright drives Debian's Chromium against a live uvicorn server.

They run on SQLite only: the pages call the same services whose SQL the service and
HTTP tests already run on both databases, and one shared server for the whole browser
session keeps the suite inside its time budget (a fresh server per test costs seconds).
Each test makes its own accounts, so tests do not see each other's uploads ("mine").
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from dam import auth, migrate
from dam.models import Role
from dam.runtime import Runtime, build_runtime
from dam.settings import load_settings
from tests.conftest import unavailable
from tests.live_server import running
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("DAM_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
# Small chunks, so that even a test photo goes up in several PATCH requests and a test
# can cut the connection between two of them.
CHUNK_BYTES = 64 * 1024


@pytest.fixture(scope="session")
def ui_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    data = tmp_path_factory.mktemp("browser-data")
    # The immediate queue runs the pipeline inside the request that completes an upload,
    # so "processing" turns into "ready" without a consumer thread to wait for.
    settings = load_settings(
        data_dir=data, database_url=f"sqlite:///{data / 'beeldbank.db'}", queue_url="immediate://"
    )
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def server(ui_runtime: Runtime) -> Iterator[str]:
    app = create_app(ui_runtime)
    app.state.upload_options.chunk_bytes = CHUNK_BYTES
    app.state.upload_options.poll_ms = 200
    app.state.upload_options.retry_delays_ms = (200, 400, 800, 1600)
    with running(app) as url:
        yield url


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        unavailable(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium` "
            "(scripts/test does this when run as root), or set DAM_TEST_CHROMIUM."
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    found = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield found
    found.close()


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=server, locale="nl-BE", viewport={"width": 1280, "height": 900}
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    role: Role


@pytest.fixture
def make_person(ui_runtime: Runtime) -> Callable[..., Person]:
    def make(role: Role = Role.creative) -> Person:
        email = f"{role.value}-{secrets.token_hex(4)}@beeldbank.test"
        with ui_runtime.unit_of_work() as session:
            auth.create_user(session, email=email, password=PASSWORD, role=role)
        return Person(email, PASSWORD, role)

    return make


def log_in(page: Page, person: Person, *, path: str = "/") -> None:
    page.goto(path)
    # By id, not by label: the same helper serves both languages.
    page.locator("#email").fill(person.email)
    page.locator("#password").fill(person.password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: Page, name: str) -> Path:
    """Save the page for reviewers: test-artifacts/screenshots/<name>-<lang>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    lang = page.locator("html").get_attribute("lang") or "xx"
    path = SCREENSHOTS / f"{name}-{lang}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_axe = Axe()


def assert_accessible(page: Page) -> None:
    """axe-core finds no violation of any rule it runs by default on this page."""
    results = _axe.run(page)
    assert results.violations_count == 0, results.generate_report()


def api_token(runtime: Runtime, person: Person) -> str:
    """A bearer token for `person`, to set up content through the API."""
    with runtime.unit_of_work() as session:
        user = auth.get_user_by_email(session, person.email)
        return auth.create_token(session, user=user, name="browser test setup")
