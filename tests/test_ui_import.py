"""The archive import from the web UI (administrators, a folder under DAM_IMPORT_ROOTS, a
job of the queue with progress, taken over after a kill) and the upload page's batch
details: licence, title, tags and collection for every file, your default licence,
"Edit these uploads"."""

from __future__ import annotations

import base64
import csv
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from dam import collections, jobs, owner
from dam.collections import CollectionCreate
from dam.models import (
    Asset,
    CollectionAsset,
    ImportedFile,
    ImportRun,
    Job,
    JobStatus,
    LicenceStatus,
    Role,
    User,
)
from dam.owner import Owner
from dam.runtime import Runtime
from dam.settings import Settings
from ingest import bulk_import, import_runs
from ingest.demo import xmp_packet
from tests import media
from tests.conftest import Account
from tests.ui_client import log_in

pytestmark = pytest.mark.one_database

TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def share(tmp_path: Path) -> Path:
    root = tmp_path / "share"
    events = root / "Evenementen" / "2019"
    events.mkdir(parents=True)
    (events / "lint.jpg").write_bytes(media.jpeg(640, 480, seed=51))
    (events / "lint.jpg.xmp").write_bytes(xmp_packet(title="Opening brug", rating=4))
    (root / "Evenementen" / "notities.txt").write_bytes(b"geen foto " * 20)
    (tmp_path / "elders").mkdir()
    (tmp_path / "elders" / "geheim.jpg").write_bytes(media.jpeg(seed=52))
    return root


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], share: Path) -> Settings:
    return settings_factory(import_roots=str(share))


def _wait_until_finished(client: TestClient, url: str) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        html = client.get(url).text
        if 'http-equiv="refresh"' not in html:  # the page stops refreshing when done
            return html
        time.sleep(0.2)
    raise AssertionError("the import did not finish")


def test_an_administrator_imports_a_folder_from_the_web(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account], share: Path
) -> None:
    admin = make_account(Role.admin)
    token = log_in(client, admin)
    page = client.get("/admin/import")
    assert page.status_code == 200
    assert str(share) in page.text and "Een archief importeren" in page.text

    # Only folders inside the configured root: no way out with .. or an absolute path.
    for folder in ("../elders", "/etc", "Evenementen/../../elders", "bestaat-niet"):
        refused = client.post(
            "/admin/import", data={"csrf_token": token, "root": "0", "folder": folder}
        )
        assert refused.status_code == 422, folder
        assert "importmap" in refused.text
    with rt.session() as session:
        assert session.exec(select(ImportRun)).first() is None

    started = client.post(
        "/admin/import",
        data={
            "csrf_token": token,
            "root": "0",
            "folder": "Evenementen",
            "licence_status": "own",
            "credit": "Foto: archief",
            "collections": "true",
            "folder_depth": "1",
        },
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    html = _wait_until_finished(client, started.headers["location"])
    assert "Klaar" in html
    assert "1 bestand geïmporteerd" in html
    assert "1 bestand geweigerd" in html and "notities.txt" in html
    with rt.session() as session:
        [asset] = session.exec(select(Asset))
        assert asset.title == "Opening brug"
        assert asset.licence_status == "own"
        assert asset.licence["credit"] == "Foto: archief"
        assert asset.meta["rating"] == 4
        [member] = session.exec(select(CollectionAsset))
        assert member.asset_id == asset.id
        run = session.exec(select(ImportRun)).one()
        assert run.status == "done" and run.counts["imported"] == 1
        assert run.report_path and Path(run.report_path).is_file()
    listing = client.get("/admin/import").text
    assert "Recente imports" in listing and "Klaar" in listing


def _start_unqueued(rt: Runtime, admin: Account, folder: str) -> tuple[str, str]:
    """A run as the page starts it, its job recorded but not yet taken by any consumer
    (a session without the runtime's queue); (run id, job id)."""
    with Session(rt.engine, expire_on_commit=False) as session:
        actor = session.get(User, admin.user.id)
        assert actor is not None
        run = import_runs.start_import(
            session,
            settings=rt.settings,
            request=import_runs.ImportRequest(
                root=0, folder=folder, licence_status=LicenceStatus.own
            ),
            actor=actor,
        )
        assert run.job_id is not None
        return run.id, run.job_id


def test_an_import_killed_halfway_is_taken_over_and_finishes(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account], share: Path,
    dead: Owner,
) -> None:  # fmt: skip
    more = share / "Evenementen" / "2020"
    more.mkdir()
    for seed in (61, 62, 63):
        (more / f"foto-{seed}.jpg").write_bytes(media.jpeg(320, 240, seed=seed))
    (more / "kopie-61.jpg").write_bytes((more / "foto-61.jpg").read_bytes())
    admin = make_account(Role.admin)
    log_in(client, admin)
    with rt.session() as session:
        user = session.get(User, admin.user.id)
        assert user is not None
        session.expunge(user)
    # An earlier import (from the command line) took one photo: that one is "imported
    # before" for the run below, the others are the run's own.
    earlier = bulk_import.import_all(
        rt, list(bulk_import.walk([more / "foto-63.jpg"])), owner=user,
        options=bulk_import.ImportOptions(),
    )  # fmt: skip
    assert len(earlier.imported) == 1
    run_id, job_id = _start_unqueued(rt, admin, "Evenementen")
    # What the killed process got done: the job claimed, two photos imported (as its import
    # does it, file by file: a new one and a copy of one the kill kept it from), the run
    # counting; then kill -9.
    first = share / "Evenementen" / "2019" / "lint.jpg"
    done = bulk_import.import_all(
        rt,
        list(bulk_import.walk([first, more / "kopie-61.jpg"])),
        owner=user,
        options=bulk_import.ImportOptions(licence_status=LicenceStatus.own, run_id=run_id),
    )
    assert len(done.imported) == 2
    with Session(rt.engine) as session:
        session.execute(
            update(Job)
            .where(col(Job.id) == job_id)
            .values(
                status=JobStatus.running, attempts=1, owner_host=dead.host,
                owner_boot=dead.boot, owner_pid=dead.pid, owner_started=dead.started,
            )
        )  # fmt: skip
        session.execute(
            update(ImportRun)
            .where(col(ImportRun.id) == run_id)
            .values(status="running", total=6, done=2)
        )
        session.commit()
    page = client.get(f"/admin/import/{run_id}").text
    assert "Bezig" in page and 'http-equiv="refresh"' in page

    rt.recover()  # what `dam serve` and `dam worker` do when they start

    html = _wait_until_finished(client, f"/admin/import/{run_id}")
    assert "Klaar" in html
    # Its own before the kill (lint, kopie-61) and after it (foto-62): foto-61 found
    # kopie-61 already in the library, foto-63 came with the earlier import.
    assert "3 bestanden geïmporteerd" in html
    assert "1 bestand stond al in de beeldbank" in html
    assert "1 bestand was al eerder geïmporteerd" in html
    assert "1 bestand geweigerd" in html and "notities.txt" in html
    assert "werd onderbroken en ging verder waar hij gestopt was" in html
    with rt.session() as session:
        assets = session.exec(select(Asset)).all()
        assert len(assets) == 4  # each photo once
        imported = {Path(f.path).name: f for f in session.exec(select(ImportedFile))}
        assert sorted(imported) == [
            "foto-61.jpg", "foto-62.jpg", "foto-63.jpg", "kopie-61.jpg", "lint.jpg"
        ]  # fmt: skip
        assert {name for name, f in imported.items() if f.run_id == run_id} == {
            "foto-61.jpg", "foto-62.jpg", "kopie-61.jpg", "lint.jpg"
        }  # fmt: skip
        assert imported["foto-61.jpg"].outcome == "duplicate"
        assert imported["foto-63.jpg"].run_id is None
        job = session.get(Job, job_id)
        assert job is not None and job.asset_id is None
        assert (job.status, job.attempts, job.progress) == (JobStatus.done, 2, 1.0)
        assert job.owner_pid == owner.current().pid
        run = session.get(ImportRun, run_id)
        assert run is not None and run.status == "done" and run.done == 6
        assert run.counts == {
            "imported": 3, "would_import": 0, "duplicates": 1, "skipped": 1, "refused": 1
        }  # fmt: skip
        assert run.report_path is not None
        with Path(run.report_path).open(encoding="utf-8") as fh:
            lines = {Path(r["path"]).name: r for r in csv.DictReader(fh)}
        assert lines["lint.jpg"]["outcome"] == "imported"
        assert lines["lint.jpg"]["reason"] == bulk_import.THIS_RUN
        assert lines["foto-63.jpg"]["outcome"] == "skipped"
    listing = client.get("/admin/import").text
    assert "Klaar" in listing


def test_an_import_whose_folder_is_gone_says_so(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account], share: Path
) -> None:
    admin = make_account(Role.admin)
    log_in(client, admin)
    run_id, job_id = _start_unqueued(rt, admin, "Evenementen")
    page = client.get(f"/admin/import/{run_id}").text
    assert "Wacht" in page and 'http-equiv="refresh"' in page
    shutil.rmtree(share / "Evenementen")  # the share was unmounted before the job ran

    rt.queue.enqueue([job_id])  # a consumer takes it

    html = client.get(f"/admin/import/{run_id}").text
    assert 'http-equiv="refresh"' not in html
    assert "Gestopt met een fout" in html
    assert "De map is niet meer te lezen" in html
    with rt.session() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.status == JobStatus.failed
        assert job.error == import_runs.FOLDER_GONE
        run = session.get(ImportRun, run_id)
        assert run is not None and (run.status, run.error) == ("failed", import_runs.FOLDER_GONE)
        assert session.exec(select(Asset)).first() is None


def _state(run: dict[str, object], job: dict[str, object] | None) -> tuple[str, str | None]:
    state = import_runs.state_of(
        ImportRun(folder="/x", **run),  # type: ignore[arg-type]
        Job(stage=import_runs.IMPORT_TASK, **job) if job is not None else None,  # type: ignore[arg-type]
    )
    return state.status, state.error.id if state.error is not None else None


@pytest.mark.parametrize(
    ("run", "job", "expected"),
    [
        ({"status": "queued"}, {"status": JobStatus.queued}, ("queued", None)),
        ({"status": "queued"}, {"status": JobStatus.running, "attempts": 1}, ("running", None)),
        # Its process died and the queue took the job back: it goes on by itself.
        ({"status": "running"}, {"status": JobStatus.queued, "attempts": 1}, ("resuming", None)),
        ({"status": "done"}, {"status": JobStatus.done, "attempts": 2}, ("done", None)),
        (
            {"status": "failed", "error": import_runs.FOLDER_GONE},
            {"status": JobStatus.failed},
            ("failed", import_runs.FOLDER_GONE),
        ),
        # The job failed before the run could say why (its database was away).
        ({"status": "running"}, {"status": JobStatus.failed}, ("failed", import_runs.STOPPED)),
        # A run from before imports were jobs: its thread died with its process.
        ({"status": "running"}, None, ("failed", import_runs.LOST)),
        ({"status": "done"}, None, ("done", None)),
    ],
)
def test_a_run_shows_what_its_job_says(
    run: dict[str, object], job: dict[str, object] | None, expected: tuple[str, str | None]
) -> None:
    assert _state(run, job) == expected


def test_waiting_for_disk_space_is_said() -> None:
    state = import_runs.state_of(
        ImportRun(folder="/x", status="running"),
        Job(
            stage=import_runs.IMPORT_TASK,
            status=JobStatus.queued,
            attempts=1,
            error=jobs.WAITING_FOR_SPACE,
        ),
    )
    assert (state.status, state.waiting_for_space, state.finished) == ("resuming", True, False)


def _tus_upload(client: TestClient, account: Account, data: bytes, **metadata: str) -> str:
    pairs = [f"filename {base64.b64encode(b'batch.jpg').decode()}"]
    pairs += [f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items()]
    created = client.post(
        "/api/v1/uploads",
        headers={
            **account.headers,
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": ",".join(pairs),
        },
    )
    assert created.status_code == 201, created.text
    done = client.patch(
        created.headers["location"],
        content=data,
        headers={
            **account.headers,
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert done.status_code == 204, done.text
    return done.headers["beeldbank-asset-id"]


def test_an_upload_batch_gives_every_file_its_details(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    creative = make_account(Role.creative)
    with rt.session() as session:
        user = session.get(User, creative.user.id)
        assert user is not None
        collection = collections.create_collection(
            session, data=CollectionCreate(title="Persmoment", description=""), owner=user
        )
        collection_id = collection.id
    batch = {
        "title": "Persmoment 1",
        "tags": "pers, gent",
        "collection_id": collection_id,
        "licence_status": "licensed",
        "credit": "Belga",
        "licence_source": "Belga Image",
    }
    asset_id = _tus_upload(client, creative, media.jpeg(seed=53), **batch)
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None
        assert (asset.title, asset.licence_status) == ("Persmoment 1", "licensed")
        assert asset.licence == {"credit": "Belga", "source": "Belga Image"}
        assert collections.collection_asset_ids(session, collection_id, None) == [asset_id]
    # A wrong collection or licence is refused before any byte is sent.
    for wrong in ({"collection_id": "nope"}, {"licence_status": "gratis"}):
        key, value = next(iter(wrong.items()))
        refused = client.post(
            "/api/v1/uploads",
            headers={
                **creative.headers,
                **TUS,
                "Upload-Length": "10",
                "Upload-Metadata": f"{key} {base64.b64encode(value.encode()).decode()}",
            },
        )
        assert refused.status_code in (404, 422), refused.text

    token = log_in(client, creative, next_path="/upload")
    page = client.get("/upload").text
    assert "Gegevens voor elk bestand dat je toevoegt" in page
    saved = client.post(
        "/upload/licence-default",
        data={"csrf_token": token, "licence_status": "own", "credit": "Foto: An"},
    )
    assert saved.status_code == 200 and "Je uploads starten voortaan" in saved.text
    with rt.session() as session:
        user = session.get(User, creative.user.id)
        assert user is not None
        assert (user.default_licence_status, user.default_credit) == ("own", "Foto: An")
    mine = _tus_upload(client, creative, media.jpeg(seed=54))
    with rt.session() as session:
        own = session.get(Asset, mine)
        assert own is not None and own.licence_status == "own"
        assert own.licence == {"credit": "Foto: An"}

    edit = client.get(f"/uploads/edit?id={asset_id}&id={mine}")
    assert edit.status_code == 200
    assert "Deze uploads bewerken" in edit.text and f'name="title-{mine}"' in edit.text
    stored = client.post(
        "/uploads/edit",
        data={
            "csrf_token": token,
            "id": [asset_id, mine],
            f"title-{asset_id}": "Persmoment, de minister",
            f"alt_text-{asset_id}": "De minister aan het spreekgestoelte.",
            f"tags-{asset_id}": "pers",
            f"title-{mine}": "Portret",
            f"alt_text-{mine}": "",
            f"tags-{mine}": "",
        },
    )
    assert stored.status_code == 200 and "2 beelden bewaard." in stored.text
    with rt.session() as session:
        first = session.get(Asset, asset_id)
        assert first is not None and first.alt_text == "De minister aan het spreekgestoelte."
        assert first.title == "Persmoment, de minister"
