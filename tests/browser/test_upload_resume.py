"""Resumable uploads in the browser: a dropped connection and a page reload both continue
from the server's offset instead of starting over."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, Request, Route, expect

from dam.models import Asset, Role
from dam.runtime import Runtime
from tests.browser.conftest import CHUNK_BYTES, Person, log_in

UPLOADS = re.compile(r".*/api/v1/uploads(/\w+)?$")


@pytest.fixture
def big_photo(tmp_path: Path) -> Path:
    """A photo of several chunks, with noise so that JPEG cannot squeeze it small."""
    image = Image.effect_noise((900, 700), 80).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    path = tmp_path / "groot.jpg"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size > 5 * CHUNK_BYTES
    return path


def stored_sha256(runtime: Runtime, page: Page, name: str) -> str:
    row = page.locator(".upload-item", has_text=name)
    expect(row).to_have_attribute("data-state", "ready", timeout=30_000)
    href = row.get_by_role("link").get_attribute("href") or ""
    with runtime.session() as session:
        asset = session.get(Asset, href.rsplit("/", 1)[-1])
        assert asset is not None
        return asset.sha256


def test_upload_resumes_after_the_connection_drops(
    page: Page,
    make_person: Callable[..., Person],
    ui_runtime: Runtime,
    big_photo: Path,
) -> None:
    log_in(page, make_person(Role.creative), path="/upload")
    sent: list[tuple[str, int | None]] = []
    cut: list[int] = []

    def network(route: Route, request: Request) -> None:
        offset = request.headers.get("upload-offset")
        sent.append((request.method, int(offset) if offset else None))
        if request.method == "PATCH" and not cut and int(offset or 0) >= 2 * CHUNK_BYTES:
            cut.append(int(offset or 0))
            route.abort("connectionreset")  # the connection drops halfway through the file
            return
        route.continue_()

    page.route(UPLOADS, network)
    page.get_by_label("Bestanden kiezen").set_input_files(big_photo)
    sha = stored_sha256(ui_runtime, page, "groot.jpg")

    assert cut == [2 * CHUNK_BYTES]
    methods = [method for method, _ in sent]
    assert methods.count("POST") == 1, "the upload was started over"
    after_cut = sent[sent.index(("PATCH", cut[0])) + 1 :]
    assert after_cut[0][0] == "HEAD"  # asks the server where it stands
    patches = [offset for method, offset in after_cut if method == "PATCH"]
    assert patches[0] == cut[0], "resumed from the server's offset, not from zero"
    assert patches == sorted(patches) and 0 not in patches
    row = page.locator(".upload-item", has_text="groot.jpg")
    expect(row).to_have_attribute("data-resumed-at", str(cut[0]))
    assert sha == hashlib.sha256(big_photo.read_bytes()).hexdigest()


def test_upload_resumes_after_a_page_reload(
    page: Page,
    make_person: Callable[..., Person],
    ui_runtime: Runtime,
    big_photo: Path,
) -> None:
    log_in(page, make_person(Role.creative), path="/upload")
    sent: list[tuple[str, int | None]] = []
    held: list[Route] = []

    def network(route: Route, request: Request) -> None:
        offset = request.headers.get("upload-offset")
        sent.append((request.method, int(offset) if offset else None))
        if request.method == "PATCH" and not held and int(offset or 0) >= 3 * CHUNK_BYTES:
            held.append(route)  # never answered: the page reloads while this chunk is on its way
            return
        route.continue_()

    page.route(UPLOADS, network)
    page.get_by_label("Bestanden kiezen").set_input_files(big_photo)
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the upload never reached its fourth chunk"
    page.reload()
    expect(page.get_by_text("Onafgewerkte uploads")).to_contain_text("groot.jpg")
    before = len(sent)
    page.get_by_label("Bestanden kiezen").set_input_files(big_photo)
    sha = stored_sha256(ui_runtime, page, "groot.jpg")

    after = sent[before:]
    assert [m for m, _ in sent].count("POST") == 1, "the upload was started over"
    assert after[0] == ("HEAD", None)
    patches = [offset for method, offset in after if method == "PATCH"]
    assert patches[0] == 3 * CHUNK_BYTES
    expect(page.locator(".upload-item")).to_have_attribute("data-resumed-at", str(3 * CHUNK_BYTES))
    assert sha == hashlib.sha256(big_photo.read_bytes()).hexdigest()
