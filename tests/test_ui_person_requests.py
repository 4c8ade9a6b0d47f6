"""Access exports and erasures started from the UI, over HTTP on SQLite and PostgreSQL:
the person page and the dashboard start them as jobs (the test queue runs them at once),
the export's ZIP leaves through the gate for 24 hours and each download is audited, the
erasure page names what it touches and goes ahead only with the name typed, and ends on
the tombstone without the name. Officers land on their dashboard after login."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from dam import clock
from dam.models import Asset, AuditEntry, FaceState, Job, JobStatus, Person, Role
from dam.runtime import Runtime
from gdpr.requests import erasure, export_files, person_requests
from tests import video_clips as clips
from tests.conftest import Account
from tests.test_ui_privacy import Desk, add_face, consent, make_desk, person, publish
from tests.ui_client import csrf_of, log_in, upload

pytestmark = pytest.mark.one_database

NAME = "Wendelien Qorvanckx"


def _audits(desk: Desk, action: str, subject: str) -> int:
    with desk.rt.session() as session:
        query = select(func.count()).where(
            col(AuditEntry.action) == action, col(AuditEntry.subject_id) == subject
        )
        return int(session.exec(query).one())


def _job_of(location: str) -> str:
    found = re.fullmatch(r"/privacy/requests/(\w+)", location)
    assert found, location
    return found[1]


def _subject(desk: Desk) -> tuple[str, list[str]]:
    """A person confirmed on two photos (one published), suggested on a third."""
    person_id = person(desk, NAME)
    photos = [upload(desk.client, desk.creative, seed=n) for n in (1, 2, 3)]
    add_face(desk, photos[0], state=FaceState.confirmed, person_id=person_id)
    add_face(desk, photos[1], state=FaceState.confirmed, person_id=person_id)
    add_face(desk, photos[2], state=FaceState.suggested, person_id=person_id)
    consent(desk, person_id, days=None, channels=["internal", "website"])
    publish(desk, photos[0], "https://example.test/nieuws/7")
    return person_id, photos


def test_an_export_from_the_person_page_downloads_for_24_hours(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desk = make_desk(client, rt, make_account)
    person_id, _ = _subject(desk)
    page = desk.page(f"/people/{person_id}")
    assert "Inzageverzoek exporteren" in page and f'href="/people/{person_id}/erase"' in page

    job_id = _job_of(desk.post(f"/people/{person_id}/export"))
    shown = desk.page(f"/privacy/requests/{job_id}")
    assert NAME in shown and "Klaar" in shown
    download = f"/api/v1/privacy/exports/{job_id}"
    assert f'href="{download}"' in shown

    for n in (1, 2):  # may be fetched again; each time audited
        answer = client.get(download)
        assert answer.status_code == 200, answer.text[:300]
        assert answer.headers["content-type"] == "application/zip"
        assert _audits(desk, "person.export_downloaded", person_id) == n
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        document = json.loads(archive.read("person.json"))
    assert document["person"]["name"] == NAME
    assert len(document["assets"]) == 3 and len(document["consents"]) == 1
    assert _audits(desk, "person.exported", person_id) == 1

    status = client.get(f"/api/v1/privacy/requests/{job_id}").json()
    assert status["status"] == "done" and status["progress"] == 1.0
    assert status["download_url"] == download and status["counts"]["assets"] == 3

    # The person page and the dashboard list it as ready.
    assert "klaar om te downloaden" in desk.page(f"/people/{person_id}")
    assert "klaar om te downloaden" in desk.page("/privacy")

    later = clock.now() + export_files.EXPORT_KEPT + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert client.get(download).status_code == 410
    assert "niet meer beschikbaar" in desk.page(f"/privacy/requests/{job_id}")
    assert _audits(desk, "person.export_downloaded", person_id) == 2
    assert not export_files.export_path(rt.blobs, job_id).exists()


def test_only_privacy_officers_start_and_download_exports(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    person_id, _ = _subject(desk)
    job_id = _job_of(desk.post(f"/people/{person_id}/export"))
    creative = make_account(Role.creative)
    headers = creative.headers
    assert client.get(f"/api/v1/privacy/exports/{job_id}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/privacy/requests/{job_id}", headers=headers).status_code == 403
    started = client.post(f"/api/v1/people/{person_id}/export-requests", headers=headers)
    assert started.status_code == 403
    # Any other job id is no request at all.
    other = client.get(f"/api/v1/privacy/requests/{'0' * 26}", headers=desk.officer.headers)
    assert other.status_code == 404
    with TestClient(client.app) as other_client:
        token = log_in(other_client, creative)
        page = other_client.get(f"/people/{person_id}")
        assert "Inzageverzoek exporteren" not in page.text
        refused = other_client.post(
            f"/people/{person_id}/export", data={"csrf_token": token}, follow_redirects=False
        )
        assert refused.status_code == 403


def test_erasure_names_the_impact_needs_the_name_and_ends_on_the_tombstone(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    person_id, photos = _subject(desk)
    page = desk.page(f"/people/{person_id}/erase")
    impact = page.split('id="erase-impact"')[1].split("</ul>")[0]
    assert "2 foto" in impact  # confirmed on two
    assert "1 foto" in impact  # suggested on one
    assert "1 geregistreerde publicatie" in impact
    assert NAME in page

    wrong = client.post(
        f"/people/{person_id}/erase",
        data={"csrf_token": desk.csrf, "assets": "delete", "confirm_name": "Wendelien"},
    )
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    no_choice = client.post(
        f"/people/{person_id}/erase",
        data={"csrf_token": desk.csrf, "confirm_name": NAME},
    )
    assert no_choice.status_code == 422
    with rt.session() as session:
        assert session.get(Person, person_id) is not None

    # A ZIP of one of their photos, made before: it goes with them.
    zip_page = desk.post("/downloads/zip", ids=photos[0], zip_channel="internal")
    assert "De ZIP is klaar." in desk.page(zip_page)

    location = desk.post(
        f"/people/{person_id}/erase", assets="delete", confirm_name=f"  {NAME.lower()} "
    )
    assert "omdat de gegevens van iemand die erop staat gewist zijn" in desk.page(zip_page)
    shown = desk.page(location)
    assert NAME not in shown
    tombstone = shown.split('id="tombstone"')[1].split("</dl>")[0]
    assert "2 verwijderd" in tombstone
    with rt.session() as session:
        assert session.get(Person, person_id) is None
    assert client.get(f"/people/{person_id}").status_code == 404
    assert client.get(f"/assets/{photos[0]}").status_code == 404
    assert client.get(f"/assets/{photos[2]}").status_code == 200  # only suggested: kept
    assert _audits(desk, "person.erased", person_id) == 1
    assert _audits(desk, "person.erasure_requested", person_id) == 1
    assert NAME not in desk.page("/privacy")


def test_the_dashboard_finds_a_person_to_start_a_request_for(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    person_id, _ = _subject(desk)
    person(desk, "Iemand Anders")
    found = desk.page("/privacy?person=qorvan")
    listed = found.split('class="person-found"')[1].split("</ul>")[0]
    assert NAME in listed and "Iemand Anders" not in listed
    assert f'action="/people/{person_id}/export"' in listed
    assert f'href="/people/{person_id}/erase"' in listed
    assert "Niemand met deze naam." in desk.page("/privacy?person=zzzz")


def test_officers_land_on_their_dashboard(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    officer, creative = make_account(Role.privacy_officer), make_account(Role.creative)
    cases = ((officer, "/", "/privacy"), (creative, "/", "/"), (officer, "/people", "/people"))
    for account, asked, landing in cases:
        with TestClient(client.app) as fresh:
            answer = fresh.post(
                "/login",
                data={
                    "email": account.user.email,
                    "password": "correct horse battery",
                    "csrf_token": csrf_of(fresh.get("/login")),
                    "next": asked,
                },
                follow_redirects=False,
            )
            assert answer.headers["location"] == landing


def test_a_request_waiting_for_the_queue_shows_its_progress(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """A job not run yet (a queue behind): the page says it waits, with a progress bar and
    a refresh link for browsers without scripts; once a worker ran it, the download."""
    desk = make_desk(client, rt, make_account)
    person_id, _ = _subject(desk)
    # A session without the runtime's queue: the job is committed but nobody runs it yet.
    with Session(rt.engine, expire_on_commit=False) as session:
        job = person_requests.request_export(session, person_id=person_id, actor=desk.officer.user)
    waiting = desk.page(f"/privacy/requests/{job.id}")
    assert "Wacht om te starten" in waiting and '<progress id="request-progress"' in waiting
    assert f'href="/privacy/requests/{job.id}" id="request-refresh"' in waiting
    assert "js/person-request.js" in waiting
    status = client.get(f"/api/v1/privacy/requests/{job.id}").json()
    assert status["status"] == "queued" and status["download_url"] is None
    assert client.get(f"/api/v1/privacy/exports/{job.id}").status_code == 404
    # A second click while it waits does not start a second export.
    assert _job_of(desk.post(f"/people/{person_id}/export")) == job.id
    assert "wacht om te starten" in desk.page("/privacy")

    rt.runner.run(job.id)  # what a worker does with the id
    done = desk.page(f"/privacy/requests/{job.id}")
    assert "Klaar" in done and "js/person-request.js" not in done
    assert client.get(f"/api/v1/privacy/exports/{job.id}").status_code == 200


def test_the_api_starts_the_same_erasure_job_and_refuses_a_second(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """DELETE /api/v1/people/{id} starts the erasure the UI starts: a job, polled at its
    status URL; one waiting for the queue makes a second a 409."""
    desk = make_desk(client, rt, make_account)
    person_id, photos = _subject(desk)
    headers = desk.officer.headers
    # A session without the runtime's queue: committed, not run yet.
    with Session(rt.engine, expire_on_commit=False) as session:
        job = person_requests.request_erasure(
            session, person_id=person_id, assets=erasure.AssetsChoice.delete, actor=desk.user()
        )
    status_url = f"/api/v1/privacy/requests/{job.id}"
    waiting = client.get(status_url, headers=headers).json()
    assert (waiting["kind"], waiting["status"]) == ("erasure", "queued")
    assert waiting["assets"] == "delete"
    assert waiting["status_url"] == status_url and waiting["tombstone_id"] is None
    again = client.delete(f"/api/v1/people/{person_id}?assets=redact", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict", again.text

    rt.runner.run(job.id)  # what a worker does with the id
    done = client.get(status_url, headers=headers).json()
    assert done["status"] == "done" and done["error"] is None and done["tombstone_id"]
    assert done["counts"]["assets_deleted"] == 2 and done["counts"]["faces"] == 3
    assert client.get(f"/api/v1/assets/{photos[0]}", headers=headers).status_code == 404
    gone = client.delete(f"/api/v1/people/{person_id}?assets=delete", headers=headers)
    assert gone.status_code == 404
    assert _audits(desk, "person.erasure_requested", person_id) == 1
    assert _audits(desk, "person.erased", person_id) == 1


def test_erasure_offers_to_blur_a_video_and_says_it_is_converted_again(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account], tmp_path: Path
) -> None:
    desk = make_desk(client, rt, make_account)
    person_id = person(desk, NAME)
    video = clips.store(rt, clips.render(clips.Clip("erase-ui", seconds=1.0), tmp_path))
    add_face(desk, video, state=FaceState.confirmed, person_id=person_id)
    with rt.session() as session:
        asset = session.get(Asset, video)
        assert asset is not None and asset.status == "ready"
        old_sha = asset.sha256

    page = desk.page(f"/people/{person_id}/erase")
    redact = page.split('id="assets-redact"')[1].split(">")[0]
    assert "disabled" not in redact and 'aria-describedby="redact-videos"' in redact
    hint = page.split('id="redact-videos">')[1].split("</p>")[0]
    assert f"{NAME} staat in 1 video: die wordt opnieuw omgezet" in hint

    location = desk.post(f"/people/{person_id}/erase", assets="redact", confirm_name=NAME)
    shown = desk.page(location)
    assert "1 vervaagd" in shown.split('id="tombstone"')[1].split("</dl>")[0]
    assert "1 video is opnieuw omgezet met het gezicht vervaagd" in shown
    with rt.session() as session:
        asset = session.get(Asset, video)
        assert asset is not None
        assert asset.sha256 != old_sha and asset.status == "ready"
    assert not rt.blobs.original_path(old_sha).exists()


def _running_erasure(desk: Desk, person_id: str, *, files: int, progress: float) -> str:
    """An erasure a worker is running (not run here: its state is what the pages read)."""
    with Session(desk.rt.engine, expire_on_commit=False) as session:
        job = person_requests.request_erasure(
            session, person_id=person_id, assets=erasure.AssetsChoice.redact, actor=desk.user()
        )
        row = session.get(Job, job.id)
        assert row is not None
        row.status, row.progress = JobStatus.running, progress
        row.params = {**(row.params or {}), "files": files}
        session.add(row)
        session.commit()
        return job.id


def test_an_erasure_shows_its_progress_in_files(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """While it runs, the request's page and the dashboard show the erasure's files done of
    how many, as a bar and in words, and the API says the same; once done, all of them."""
    desk = make_desk(client, rt, make_account)
    person_id, _ = _subject(desk)
    job_id = _running_erasure(desk, person_id, files=8, progress=3.5 / 8)
    page = desk.page(f"/privacy/requests/{job_id}")
    assert re.search(
        r'<progress id="request-progress" aria-label="Voortgang" max="8" value="3.50"', page
    )
    assert "3 van 8 bestanden verwerkt" in page and "js/person-request.js" in page
    dashboard = desk.page("/privacy")
    item = dashboard.split(f'href="/privacy/requests/{job_id}"')[1].split("</li>")[0]
    assert "bezig" in item and "3 van 8 bestanden verwerkt" in item and 'max="8"' in item
    assert "js/person-request.js" in dashboard
    english = client.get(f"/privacy/requests/{job_id}", headers={"Accept-Language": "en"})
    assert "3 of 8 files processed" in english.text
    status = client.get(f"/api/v1/privacy/requests/{job_id}").json()
    assert (status["files_done"], status["files_total"]) == (3, 8)
    assert status["progress"] == pytest.approx(3.5 / 8)

    # One file: the singular, and none of it done yet.
    other = person(desk, "Enkel Bestand")
    add_face(
        desk, upload(desk.client, desk.creative, seed=9), state=FaceState.confirmed, person_id=other
    )
    one = _running_erasure(desk, other, files=1, progress=0.0)
    assert "0 van 1 bestand verwerkt" in desk.page(f"/privacy/requests/{one}")


def test_an_erasure_counts_the_files_it_processes(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """The erasure notes how many photos and videos it processes (those the person is
    confirmed on) before the first; once done, all of them are."""
    desk = make_desk(client, rt, make_account)
    person_id, _ = _subject(desk)  # confirmed on two photos, suggested on a third
    with rt.session() as session:
        assert erasure.files_of(session, person_id) == 2
    location = desk.post(f"/people/{person_id}/erase", assets="redact", confirm_name=NAME)
    status = client.get(f"/api/v1/privacy/requests/{_job_of(location)}").json()
    assert status["status"] == "done"
    assert (status["files_done"], status["files_total"], status["progress"]) == (2, 2, 1.0)
