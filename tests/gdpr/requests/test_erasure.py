"""Erasure (art. 17) through the API on real photos: afterwards no table, no file under
the data dir, no database file and no search index holds the name, the notes, the
guardian's name or the person's embeddings."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

from dam import audit
from dam.models import (
    Asset,
    AuditEntry,
    Consent,
    DownloadBatch,
    ErasureTombstone,
    Face,
    FaceState,
    Job,
    Person,
    Rendition,
    Role,
)
from dam.runtime import Runtime, build_runtime
from dam.settings import get_settings
from gdpr.judgement import verdicts
from gdpr.publishing import download_batches
from gdpr.requests import export_files
from gdpr.requests.erasure import PLACEHOLDER
from ingest.faces.detect import detect_faces
from search.maintenance import rebuild
from search.service import service_for
from tests.conftest import Account
from tests.privacy_setup import (
    CONSENT_NOTES,
    GUARDIAN,
    NAME,
    NOTES,
    Subject,
    build_subject,
    found,
)
from tests.test_cli import cli_env, dam  # noqa: F401 (a fixture)

# What must be gone, as text (any case) and as bytes.
WORDS = [*NAME.split(), *NOTES.split()[-1:], *GUARDIAN.split(), CONSENT_NOTES.split()[-1]]


def leftovers(rt: Runtime, subject: Subject) -> list[str]:
    """Every place the person still shows up: table rows, files, the index."""
    problems = []
    with rt.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(sa_select(table)).all():
                text = repr(tuple(row)).lower()
                for word in WORDS:
                    if word.lower() in text:
                        problems.append(f"{table.name}: {word}")
                for value in (*subject.sealed, *subject.vectors):
                    if any(isinstance(v, bytes) and value in v for v in row):
                        problems.append(f"{table.name}: an embedding")
    files = [p for p in rt.settings.data_dir.rglob("*") if p.is_file()]
    url = rt.settings.resolved_database_url
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///"))
        files += [p for p in database.parent.glob(database.name + "*") if p.is_file()]
    assert any("tantivy" in str(p) for p in files)  # the index is among them
    seen: set[Path] = set()
    while unseen := [p for p in files if p not in seen]:
        # The index writer may rename a temporary file while we read: read what it
        # became on the next round.
        seen.update(unseen)
        problems += scan_files(unseen, subject)
        files = [p for p in rt.settings.data_dir.rglob("*") if p.is_file()]
    for word in NAME.split():
        if found(rt, word):
            problems.append(f"search finds {word}")
    return problems


def scan_files(paths: list[Path], subject: Subject) -> list[str]:
    problems = []
    for path in paths:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # renamed meanwhile: the caller reads its new name
        lowered = data.lower()
        for word in WORDS:
            if word.lower().encode() in lowered:
                problems.append(f"{path.name}: {word}")
        for value in (*subject.sealed, *subject.vectors):
            if value in data:
                problems.append(f"{path}: an embedding")
    return problems


def name_in_meta(rt: Runtime, asset_id: str) -> dict:
    """The person named in the asset's embedded metadata, as a camera or a caption tool
    writes it (IPTC caption and keywords, XMP PersonInImage), and in capitals in its
    alt text (SQLite's lower() leaves 'Ñ' as it is)."""
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None
        asset.alt_text = f"{NAME.upper()} knipt een lint door"
        asset.meta = {
            **asset.meta,
            "description": f"{NAME} bij de opening",
            "keywords": [NAME.upper(), "bibliotheek"],
            "xmp": {"Iptc4xmpExt:PersonInImage": [NAME], "xmp:Rating": 5},
        }
        session.add(asset)
        session.commit()
        return dict(asset.meta)


def erase(client: TestClient, rt: Runtime, subject: Subject, choice: str) -> dict:
    """Erase through the API: 202 with the erasure request, polled at its Location until
    it is done (the test queue runs it at once); the request's counts with the ids the
    audit entry lists."""
    # One segment holding everyone, as after `dam reindex` or a batch of changes: deleting
    # a document alone leaves its text in that segment's files.
    rebuild(service_for(rt))
    url = f"/api/v1/people/{subject.person_id}?assets={choice}"
    assert client.delete(url, headers=subject.creative.headers).status_code == 403
    assert client.delete(url.split("?")[0], headers=subject.officer.headers).status_code == 422
    bad = client.delete(url.replace(choice, "keep"), headers=subject.officer.headers)
    assert bad.status_code == 422 and "assets=redact" in bad.text
    response = client.delete(url, headers=subject.officer.headers)
    assert response.status_code == 202, response.text
    started = response.json()
    status_url = f"/api/v1/privacy/requests/{started['id']}"
    assert response.headers["location"] == started["status_url"] == status_url
    assert started["kind"] == "erasure" and started["person_id"] == subject.person_id
    polled = client.get(status_url, headers=subject.officer.headers)
    assert polled.status_code == 200, polled.text
    request = polled.json()
    assert request["status"] == "done" and request["error"] is None, request
    assert request["assets"] == choice and request["tombstone_id"]
    with rt.session() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "person.erased")).one()
        requested = session.exec(
            select(AuditEntry).where(AuditEntry.action == "person.erasure_requested")
        ).one()
    assert requested.subject_id == subject.person_id
    assert requested.details == {"job_id": started["id"], "assets": choice}
    return {**request["counts"], **entry.details}


def check_common(rt: Runtime, client: TestClient, subject: Subject, summary: dict) -> None:
    assert (
        summary["faces"] == 2
        and summary["embeddings"] == 2
        and summary["consents"] == [subject.consent_id]
    )
    assert summary["evidence_deleted"] == [subject.evidence_id]
    headers = subject.officer.headers
    assert client.get(f"/api/v1/people/{subject.person_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/assets/{subject.evidence_id}", headers=headers).status_code == 404
    with rt.session() as session:
        tombstone = session.get(ErasureTombstone, summary["tombstone_id"])
        assert tombstone is not None and tombstone.person_id == subject.person_id
        assert tombstone.executed_by == subject.officer.user.id
        assert (tombstone.asset_count, tombstone.face_count) == (2, 2)
        consent = session.get(Consent, subject.consent_id)
        assert consent is not None  # the anonymous fact stays
        assert consent.person_id is None and consent.guardian_name is None
        assert consent.notes == "" and consent.evidence_asset_id is None
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "person.erased")).one()
        assert entry.subject_id == subject.person_id
        assert entry.details["tombstone_id"] == tombstone.id
        assert audit.verify(session).ok
    # The other man's photo is untouched and still found.
    assert client.get(f"/api/v1/assets/{subject.other_photo_id}", headers=headers).json()
    assert found(rt, "simm") == [subject.other_photo_id]
    assert leftovers(rt, subject) == []


def test_erasure_deleting_the_pictures_leaves_no_trace(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    subject = build_subject(client, rt, make_account)
    # The test must be able to fail: before erasure every probe finds the person.
    before = leftovers(rt, subject)
    assert any(p.startswith("person:") for p in before)
    assert any("search finds" in p for p in before)
    assert any("an embedding" in p for p in before)

    summary = erase(client, rt, subject, "delete")
    assert summary["assets"] == "delete"
    assert sorted(summary["assets_deleted"]) == sorted(subject.photo_ids)
    for asset_id in subject.photo_ids:
        response = client.get(f"/api/v1/assets/{asset_id}", headers=subject.officer.headers)
        assert response.status_code == 404
        assert not (rt.settings.data_dir / "derived" / asset_id).exists()
    check_common(rt, client, subject, summary)


def test_erasure_redacting_the_pictures_blurs_them_everywhere(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    subject = build_subject(client, rt, make_account)
    meta = name_in_meta(rt, subject.photo_ids[0])
    with rt.session() as session:
        originals = {a.id: a.sha256 for a in session.exec(select(Asset))}

    summary = erase(client, rt, subject, "redact")
    assert summary["assets"] == "redact"
    assert sorted(summary["assets_redacted"]) == sorted(subject.photo_ids)
    assert summary["videos_reencoded"] == []  # photos are blurred where they lie
    assert summary["crops"] == 2
    # The title and the tag naming them, an alt text and three metadata strings.
    assert summary["texts_scrubbed"] == 6
    with rt.session() as session:
        for asset_id in subject.photo_ids:
            asset = session.get(Asset, asset_id)
            assert asset is not None
            assert asset.sha256 != originals[asset_id]  # a blurred original replaced it
            assert not rt.blobs.original_path(originals[asset_id]).exists()
            assert NAME not in asset.title
            (face,) = session.exec(select(Face).where(Face.asset_id == asset_id))
            assert face.state == FaceState.dismissed and face.person_id is None
            assert face.crop_path is None
            # No face left to judge: the verdict was recomputed before the call returned.
            verdict = verdicts.stored_set(session, asset_id)
            assert verdict is not None and verdict.channels["internal"]["status"] == "cleared"
            # The detector no longer finds a face in the stored original or renditions.
            files = [rt.blobs.original_path(asset.sha256)] + [
                rt.blobs.root / r.path
                for r in session.exec(select(Rendition).where(Rendition.asset_id == asset_id))
            ]
            for path in files:
                with Image.open(path) as image:
                    assert detect_faces(np.asarray(image.convert("RGB"))) == [], path.name
    with rt.session() as session:
        asset = session.get(Asset, subject.photo_ids[0])
        assert asset is not None
        assert asset.alt_text == f"{PLACEHOLDER} knipt een lint door"
        assert asset.meta == {
            **meta,
            "description": f"{PLACEHOLDER} bij de opening",
            "keywords": [PLACEHOLDER, "bibliotheek"],
            "xmp": {"Iptc4xmpExt:PersonInImage": [PLACEHOLDER], "xmp:Rating": 5},
        }
    check_common(rt, client, subject, summary)


def test_erasure_takes_prepared_zips_and_exports_along(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """A selection ZIP with their (unblurred) photo and their name in its manifest, one
    asked for but not packed yet, and their access export: all go with the erasure, rows
    and files; a ZIP of someone else's photo stays."""
    subject = build_subject(client, rt, make_account)
    creative, officer = subject.creative.headers, subject.officer.headers
    theirs = ask_zip(client, subject.creative, subject.photo_ids, included=2)
    # The other man's face is not identified: left out, the ZIP holds the manifest only.
    others = ask_zip(client, subject.creative, [subject.other_photo_id], included=0)
    with Session(rt.engine, expire_on_commit=False) as session:  # no queue: never run yet
        waiting = download_batches.create_batch(
            session,
            data=download_batches.BatchInput(asset_ids=[subject.photo_ids[0]], channel="internal"),
            actor=subject.creative.user,
            settings=rt.settings,
        )
        pack_job = session.exec(select(Job).where(Job.stage == download_batches.ZIP_TASK)).all()
    (waiting_job,) = [j.id for j in pack_job if j.params == {"batch_id": waiting.id}]
    started = client.post(f"/api/v1/people/{subject.person_id}/export-requests", headers=officer)
    assert started.status_code == 202, started.text
    export_id = started.json()["id"]
    export_file = export_files.export_path(rt.blobs, export_id)
    zip_file = download_batches.zip_dir(rt.blobs) / f"{theirs}.zip"
    with zipfile.ZipFile(export_file) as archive:
        crops = [n for n in archive.namelist() if n.startswith("faces/")]
        assert len(crops) == 2
        crop_bytes = archive.read(crops[0])
    fetched = client.get(f"/api/v1/downloads/{theirs}/file", headers=creative)
    assert fetched.status_code == 200
    with zipfile.ZipFile(io.BytesIO(fetched.content)) as archive:
        pictures = [n for n in archive.namelist() if n.endswith(".jpg")]
        assert len(pictures) == 2
        picture = archive.read(pictures[0])
    # Samples from the middle of the files: what a copy of them would hold.
    samples = [b[len(b) // 2 : len(b) // 2 + 512] for b in (picture, crop_bytes)]
    # The test must be able to fail: before, the ZIP holds their name and those bytes.
    assert scan_files([zip_file], subject)
    assert samples[0] in zip_file.read_bytes() and samples[1] in export_file.read_bytes()

    summary = erase(client, rt, subject, "redact")
    assert sorted(summary["downloads_withdrawn"]) == sorted([theirs, waiting.id])
    assert summary["exports_deleted"] == [export_id]
    assert not zip_file.exists() and not export_file.exists()
    for path in rt.settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(sample in data for sample in samples), path
    # The API answers as documented: the ZIP is gone (410), the export no longer exists.
    gone = client.get(f"/api/v1/downloads/{theirs}/file", headers=creative)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "gone", gone.text
    assert "erased" in gone.json()["error"]["message"]
    status = client.get(f"/api/v1/downloads/{theirs}", headers=creative).json()
    assert status["status"] == "expired" and status["file_url"] is None
    assert {o["title"] for o in status["outcomes"]} == {""}
    kept = client.get(f"/api/v1/downloads/{others}/file", headers=creative)
    assert kept.status_code == 200
    assert client.get(f"/api/v1/privacy/exports/{export_id}", headers=officer).status_code == 404
    assert client.get(f"/api/v1/privacy/requests/{export_id}", headers=officer).status_code == 404
    # The ZIP asked for before the erasure is never packed.
    rt.runner.run(waiting_job)
    with rt.session() as session:
        batch = session.get(DownloadBatch, waiting.id)
        assert batch is not None and batch.status == "expired" and batch.path is None
    assert not (download_batches.zip_dir(rt.blobs) / f"{waiting.id}.zip").exists()
    check_common(rt, client, subject, summary)


def ask_zip(client: TestClient, account: Account, asset_ids: list[str], included: int) -> str:
    """A selection packed as one ZIP for the internal channel (the test queue packs it)."""
    asked = client.post(
        "/api/v1/downloads",
        headers=account.headers,
        json={"asset_ids": asset_ids, "channel": "internal"},
    )
    assert asked.status_code == 202, asked.text
    batch = client.get(asked.headers["location"], headers=account.headers).json()
    assert batch["status"] == "done" and batch["included"] == included, batch
    return str(batch["id"])


def test_erasing_nobody_is_404(client: TestClient, make_account: Callable[[Role], Account]) -> None:
    officer = make_account(Role.privacy_officer)
    response = client.delete("/api/v1/people/nobody?assets=delete", headers=officer.headers)
    assert response.status_code == 404


@pytest.mark.usefixtures("cli_env")
def test_the_cli_exports_and_erases_in_an_officers_name(tmp_path: Path) -> None:
    for email, role in (("po@example.test", "privacy_officer"), ("cr@example.test", "creative")):
        added = dam("user", "add", "--email", email, "--role", role, "--password-stdin",
                    stdin="correct horse battery\n")  # fmt: skip
        assert added.exit_code == 0, added.output
    rt = build_runtime(get_settings())
    try:
        with rt.unit_of_work() as session:
            person = Person(name=NAME, notes=NOTES)
            session.add(person)
            session.flush()
            person_id = person.id
    finally:
        rt.close()
    out = tmp_path / "export.zip"

    refused = dam("privacy", "export", person_id, "--out", str(out), "--by", "cr@example.test")
    assert refused.exit_code == 1 and "privacy officer" in refused.output
    exported = dam("privacy", "export", person_id, "--out", str(out), "--by", "po@example.test")
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("person.json"))["person"]["name"] == NAME

    asked = dam("privacy", "erase", person_id, "--assets", "delete", "--by", "po@example.test")
    assert asked.exit_code == 1  # no --yes and no one typed yes: nothing happened
    erased = dam(
        "privacy", "erase", person_id, "--assets", "delete", "--by", "po@example.test", "--yes"
    )
    assert erased.exit_code == 0, erased.output
    assert "tombstone" in erased.output and NAME not in erased.output
    rt = build_runtime(get_settings())
    try:
        with rt.session() as session:
            assert session.get(Person, person_id) is None
            tombstone = session.exec(select(ErasureTombstone)).one()
            assert tombstone.person_id == person_id and tombstone.assets == "deleted"
    finally:
        rt.close()
