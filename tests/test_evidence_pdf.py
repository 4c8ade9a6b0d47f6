"""A consent form that is a PDF is previewed by PDFium in a capped child process (issue 15):
a normal form still gets its first page; a page larger than PDF allows is refused before
drawing; a page that draws too long is stopped at the time limit while the server keeps
answering, and the child does not outlive the upload. Whatever happens to the preview,
the form is stored and the consent can be recorded; the officer is told why, in Dutch or
English. The PDFs are written byte by byte (tests/pdfs.py)."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dam.models import Role
from dam.runtime import Runtime
from ingest.evidence_preview import RENDER_TIMEOUT_S
from tests import pdfs
from tests.conftest import Account
from tests.live_server import live_server
from tests.test_ui_consents import record
from tests.ui_client import log_in

pytestmark = pytest.mark.one_database

__all__ = ["live_server"]  # the fixture

HUGE_PAGE = pdfs.one_page(pdfs.signature_block(), width=200_000, height=200_000)
# 100,000 full-page diagonals: 10 kB of PDF, far more than RENDER_TIMEOUT_S of drawing
# (10,000 take about 7 s on the test machine).
SLOW_PAGE = pdfs.one_page(pdfs.many_paths(100_000))


@pytest.fixture
def officer(make_account: Callable[[Role], Account]) -> Account:
    return make_account(Role.privacy_officer)


def new_person(client: TestClient | httpx.Client, officer: Account) -> str:
    answer = client.post("/api/v1/people", headers=officer.headers, json={"name": "An Smets"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def send(
    client: TestClient | httpx.Client,
    officer: Account,
    pid: str,
    data: bytes,
    language: str = "nl",
) -> httpx.Response:
    return client.post(
        f"/api/v1/people/{pid}/evidence",
        headers={**officer.headers, "Accept-Language": language},
        files={"file": ("formulier.pdf", data, "application/pdf")},
    )


def children_rendering(data_dir: Path) -> list[int]:
    """Process ids of PDFium children working on a file under `data_dir`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"pdf_child.py" in command and str(data_dir).encode() in command:
            found.append(int(proc.name))
    return found


def kept_and_usable(
    client: TestClient | httpx.Client, officer: Account, pid: str, evidence: str, data: bytes
) -> None:
    """The form is stored as uploaded, has no preview, and proves a consent."""
    original = client.get(f"/api/v1/assets/{evidence}/original", headers=officer.headers)
    assert original.status_code == 200 and original.content == data
    preview = client.get(f"/api/v1/assets/{evidence}/renditions/preview", headers=officer.headers)
    assert preview.status_code == 404
    recorded = client.post(
        f"/api/v1/people/{pid}/consents",
        headers=officer.headers,
        json={"channels": ["internal"], "granted_at": "2026-01-05", "evidence_asset_id": evidence},
    )
    assert recorded.status_code == 201, recorded.text


def test_a_signed_form_written_as_pdf_is_previewed(client: TestClient, officer: Account) -> None:
    pid = new_person(client, officer)
    answer = send(client, officer, pid, pdfs.one_page(pdfs.signature_block()))
    assert answer.status_code == 201, answer.text
    assert answer.json()["preview"] is True and answer.json()["preview_problem"] is None
    shown = client.get(
        f"/api/v1/assets/{answer.json()['id']}/renditions/preview", headers=officer.headers
    )
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    page = Image.open(io.BytesIO(shown.content)).convert("L")
    assert page.size == (848, 1200)  # A4, 1200 px on its long side
    assert page.getpixel((100, 100)) > 240  # paper
    # The signature block: x 300-550 pt, y 62-142 pt from the bottom (PDF counts upwards).
    assert page.getpixel((int(425 * 848 / 595), 1200 - int(100 * 1200 / 842))) < 15


def test_a_page_larger_than_pdf_allows_is_refused_quickly_and_the_form_kept(
    client: TestClient, officer: Account
) -> None:
    pid = new_person(client, officer)
    started = time.monotonic()
    answer = send(client, officer, pid, HUGE_PAGE)
    took = time.monotonic() - started
    assert answer.status_code == 201, answer.text
    # Refused by the size check, long before the time limit would have stopped it.
    assert took < RENDER_TIMEOUT_S, f"refusing the page took {took:.1f} s"
    assert answer.json()["preview"] is False
    assert answer.json()["preview_problem"] == (
        "Er kon geen voorbeeld gemaakt worden: de eerste pagina is 7.056 × 7.056 cm, groter "
        "dan een pdf-pagina kan zijn (508 cm per zijde). Het ondertekende formulier zelf "
        "is bewaard."
    )
    english = send(client, officer, pid, HUGE_PAGE + b"% again\n", language="en")
    assert english.json()["preview_problem"].startswith(
        "No preview could be made: the first page is 7,056 × 7,056 cm, larger than a PDF page "
        "can be (508 cm a side)."
    )
    kept_and_usable(client, officer, pid, answer.json()["id"], HUGE_PAGE)


def test_the_consent_form_says_why_a_pdf_has_no_preview(
    client: TestClient, officer: Account
) -> None:
    pid = new_person(client, officer)
    token = log_in(client, officer)
    status, location = record(client, token, pid, evidence=HUGE_PAGE)
    assert status == 303, location
    page = client.get(location)
    assert "De toestemming is geregistreerd." in page.text
    assert (
        '<p class="flash flash-info" role="status">Er kon geen voorbeeld gemaakt worden: de '
        "eerste pagina is 7.056 × 7.056 cm" in page.text
    )
    assert 'class="evidence-preview"' not in page.text
    assert "Het ondertekende formulier openen (versie 1)" in page.text


def test_a_page_that_draws_too_long_is_stopped_while_the_server_answers(
    live_server: str, rt: Runtime, officer: Account
) -> None:
    data_dir = Path(rt.settings.data_dir).resolve()
    with httpx.Client(base_url=live_server, timeout=30) as http:
        pid = new_person(http, officer)
        upload: dict[str, object] = {}

        def slow_upload() -> None:
            started = time.monotonic()
            upload["answer"] = send(http, officer, pid, SLOW_PAGE, language="en")
            upload["took"] = time.monotonic() - started
            upload["done"] = time.monotonic()

        thread = threading.Thread(target=slow_upload)
        thread.start()
        deadline = time.monotonic() + 3.0
        while not children_rendering(data_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert children_rendering(data_dir), "no PDFium child was drawing the page"
        # Meanwhile the server answers, writes included: no transaction waits on PDFium.
        other = new_person(http, officer)
        answered = time.monotonic()
        assert http.get(f"/api/v1/people/{other}/consents", headers=officer.headers).is_success
        thread.join(timeout=RENDER_TIMEOUT_S + 10)
        assert not thread.is_alive()
        answer = upload["answer"]
        assert isinstance(answer, httpx.Response) and answer.status_code == 201, answer
        assert answered < upload["done"]  # type: ignore[operator]
        took = upload["took"]
        assert isinstance(took, float) and took < RENDER_TIMEOUT_S + 3.0, f"took {took:.1f} s"
        assert answer.json()["preview"] is False
        assert answer.json()["preview_problem"] == (
            "No preview could be made: drawing the first page took longer than 5 seconds, so "
            "it was stopped. The signed form itself is stored."
        )
        # The child went with the request (reaped: not even a zombie is left in /proc).
        assert children_rendering(data_dir) == []
        kept_and_usable(http, officer, pid, answer.json()["id"], SLOW_PAGE)
