"""Erasure with assets=redact on real photos blurs them one at a time before its one
transaction, with none open: the job's progress moves after each photo (seen from another
session while it runs), others can write meanwhile (SQLite's write lock is free), a photo
of the person confirmed meanwhile is blurred too, a crash between blurring and the swap
leaves nothing behind once the job ran again, and no blurred file that went unused stays."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from dam.errors import NotFound
from dam.jobs import schedule
from dam.models import Asset, Face, FaceState, Job, JobStatus, Person, Rendition, Role
from dam.runtime import Runtime
from gdpr.recognition import identity
from gdpr.requests import erasure, erasure_redaction, erasure_staging, person_requests
from ingest.faces.detect import detect_faces
from tests.conftest import Account
from tests.gdpr.requests.test_erasure import check_common, erase, leftovers
from tests.privacy_setup import build_subject, johns, upload

ROOT = Path(__file__).resolve().parents[3]


def erasure_temps(rt: Runtime) -> list[Path]:
    """The blurred photos waiting in tmp/ for an erasure's transaction."""
    return sorted(rt.blobs.tmp_dir.glob(f"{erasure_staging.KIND}*"))


def check_blurred(rt: Runtime, asset_ids: list[str], old: dict[str, str]) -> None:
    """A new original in place of the old one, which is gone; the detector finds no face
    in it nor in any image rendition; and the store holds no original no asset has."""
    with rt.session() as session:
        for asset_id in asset_ids:
            asset = session.get(Asset, asset_id)
            assert asset is not None and asset.sha256 != old[asset_id]
            assert not rt.blobs.original_path(old[asset_id]).exists()
            paths = [rt.blobs.original_path(asset.sha256)] + [
                rt.blobs.root / r.path
                for r in session.exec(select(Rendition).where(Rendition.asset_id == asset_id))
                if r.mime.startswith("image/")
            ]
            for path in paths:
                with Image.open(path) as image:
                    assert detect_faces(np.asarray(image.convert("RGB"))) == [], path.name
        kept = {a.sha256 for a in session.exec(select(Asset))}
    assert {p.name for p in rt.blobs.iter_originals()} == kept


def write_elsewhere(rt: Runtime, asset_id: str) -> None:
    """Another connection writes, waiting two seconds at most for the database's locks."""
    raw = rt.engine.raw_connection()
    cursor = raw.cursor()
    try:
        if rt.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=2000")
            try:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute(
                    "UPDATE asset SET alt_text = ? WHERE id = ?", ("Een stapel boeken", asset_id)
                )
                cursor.execute("COMMIT")
            finally:
                cursor.execute("PRAGMA busy_timeout=30000")
        else:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            cursor.execute(
                "UPDATE asset SET alt_text = %s WHERE id = %s", ("Een stapel boeken", asset_id)
            )
            raw.commit()
    finally:
        cursor.close()
        raw.close()


def test_photos_are_blurred_one_at_a_time_with_progress_and_the_database_free(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subject = build_subject(client, rt, make_account)
    with rt.session() as session:
        old = {a.id: a.sha256 for a in session.exec(select(Asset))}
    real = erasure_redaction.blur_photo
    seen: list[tuple[float, int | None, int | None]] = []

    def watched(image: Image.Image, boxes: Any) -> Image.Image:
        # From other sessions while the job runs: where the job is, as the request page
        # reads it, and a write of someone else's (no transaction of the erasure is open).
        with rt.session() as session:
            (job,) = session.exec(select(Job).where(Job.stage == person_requests.ERASURE_TASK))
            request = person_requests.get_request(session, job.id, subject.officer.user)
            files = request.files
            seen.append((job.progress, request.files_done, files[1] if files else None))
        write_elsewhere(rt, subject.other_photo_id)
        return real(image, boxes)

    monkeypatch.setattr(erasure_redaction, "blur_photo", watched)
    summary = erase(client, rt, subject, "redact")

    # Each photo: its renditions and its original; the first at 0 of 2, the second at 1.
    assert len(seen) >= 4
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    assert {(progress, done, total) for progress, done, total in seen} == {
        (0.0, 0, 2),
        (0.5, 1, 2),
    }
    assert sorted(summary["assets_redacted"]) == sorted(subject.photo_ids)
    with rt.session() as session:
        other = session.get(Asset, subject.other_photo_id)
        assert other is not None and other.alt_text == "Een stapel boeken"
    check_blurred(rt, subject.photo_ids, old)
    assert erasure_temps(rt) == []
    check_common(rt, client, subject, summary)


def test_a_photo_confirmed_while_the_others_are_blurred_is_erased_too(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Meanwhile a colleague confirms the person on a third photo, and moves the box of
    their face on one already blurred: the erasure's transaction sees both, blurs those
    two (again), and the first blurred version of the moved one is thrown away."""
    subject = build_subject(client, rt, make_account)
    third = upload(
        client,
        subject.creative,
        "derde.jpg",
        johns()["John_Salley"][2].read_bytes(),
        "image/jpeg",
    )
    (third_face,) = third["faces"]
    with rt.session() as session:
        old = {a.id: a.sha256 for a in session.exec(select(Asset))}
    first = min(subject.photo_ids)  # the first blurred
    real_blur, real_prepare = erasure_redaction.blur_photo, erasure_redaction.prepare
    prepared: list[str] = []
    changed: list[bool] = []

    def meanwhile(image: Image.Image, boxes: Any) -> Image.Image:
        if len(prepared) == 1 and not changed:
            changed.append(True)
            with rt.unit_of_work() as session:
                face = session.get(Face, third_face["id"])
                assert face is not None and face.state != FaceState.confirmed
                face.state, face.person_id = FaceState.confirmed, subject.person_id
                session.add(face)
                (moved,) = session.exec(select(Face).where(Face.asset_id == first))
                moved.box_x += 0.002
                session.add(moved)
        return real_blur(image, boxes)

    def counted(blobs: Any, plan: erasure_redaction.PhotoPlan) -> Any:
        prepared.append(plan.asset_id)
        return real_prepare(blobs, plan)

    monkeypatch.setattr(erasure_redaction, "blur_photo", meanwhile)
    monkeypatch.setattr(erasure_redaction, "prepare", counted)
    summary = erase(client, rt, subject, "redact")

    everyone = sorted([*subject.photo_ids, third["id"]])
    assert sorted(summary["assets_redacted"]) == everyone
    # Both photos, then again the one whose box moved, and the third.
    assert prepared == [*sorted(subject.photo_ids), *sorted([first, third["id"]])]
    with rt.session() as session:
        job = session.exec(select(Job).where(Job.stage == person_requests.ERASURE_TASK)).one()
        assert job.params["files"] == 3 and job.params["counts"]["assets_redacted"] == 3
        assert (job.status, job.progress) == (JobStatus.done, 1.0)
        face = session.get(Face, third_face["id"])
        assert face is not None and face.person_id is None
        assert (face.state, face.dismiss_reason) == (FaceState.dismissed, erasure.ERASED)
        assert session.get(Person, subject.person_id) is None
    check_blurred(rt, everyone, old)
    assert erasure_temps(rt) == []
    assert leftovers(rt, subject) == []


CRASH = """
import os, sys
from pathlib import Path

from dam.runtime import build_runtime
from dam.settings import load_settings
from gdpr.requests import erasure_redaction

data_dir, database_url, job_id = sys.argv[1:]
rt = build_runtime(
    load_settings(data_dir=Path(data_dir), database_url=database_url, queue_url="immediate://")
)


def crash(*args, **kwargs):
    os._exit(17)  # as a kill -9 between the blurring and the swap: no clean-up runs


erasure_redaction.apply = crash
rt.runner.run(job_id)
"""


def test_a_crash_between_blurring_and_the_swap_leaves_nothing_once_run_again(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    subject = build_subject(client, rt, make_account)
    with rt.session() as session:
        old = {a.id: a.sha256 for a in session.exec(select(Asset))}
    with Session(rt.engine, expire_on_commit=False) as session:  # no queue: not run here
        job = schedule(
            session,
            person_id=subject.person_id,
            stage=person_requests.ERASURE_TASK,
            params={"requested_by": subject.officer.user.id, "assets": "redact"},
        )
        session.commit()
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(rt.settings.data_dir), rt.settings.resolved_database_url,
         job.id],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )  # fmt: skip
    assert crashed.returncode == 17, crashed.stderr

    # As the crash left it: the job running under a process that is gone, nothing erased,
    # both photos blurred into temp files of that process.
    with rt.session() as session:
        row = session.get(Job, job.id)
        assert row is not None and row.status == JobStatus.running and row.attempts == 1
        assert row.params["files"] == 2
        assert session.get(Person, subject.person_id) is not None
        assert {a.id: a.sha256 for a in session.exec(select(Asset))} == old
    assert len(erasure_temps(rt)) >= 4

    # The next start takes the job over, removes the dead process's files, runs it again.
    rt.recover()
    with rt.session() as session:
        row = session.get(Job, job.id)
        assert row is not None
        assert (row.status, row.error, row.attempts) == (JobStatus.done, None, 2)
        assert row.params["counts"]["assets_redacted"] == 2
        assert session.get(Person, subject.person_id) is None
    check_blurred(rt, subject.photo_ids, old)
    assert erasure_temps(rt) == []
    assert leftovers(rt, subject) == []


def test_the_probe_of_the_write_lock_can_fail(rt: Runtime) -> None:
    """With a transaction open elsewhere, the probe's write gives up on SQLite (BEGIN
    IMMEDIATE took the write lock); PostgreSQL locks rows, none of which it needs."""
    with rt.session() as session:
        session.execute(text("SELECT 1"))  # begins
        if session.get_bind().dialect.name == "sqlite":
            with pytest.raises(Exception, match="locked"):
                write_elsewhere(rt, "nothing")
        else:
            write_elsewhere(rt, "nothing")
        session.rollback()


def test_a_face_confirmed_during_the_swap_waits_and_is_refused(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the transaction swaps the blurred photos in, a colleague confirms the person
    on another photo: that waits for the erasure (SQLite: the write lock; PostgreSQL: the
    person's row), then fails, since they are gone; the photo stays as it was, nobody's."""
    subject = build_subject(client, rt, make_account)
    third = upload(
        client, subject.creative, "derde.jpg", johns()["John_Salley"][2].read_bytes(), "image/jpeg"
    )
    (third_face,) = third["faces"]
    with rt.session() as session:
        old = {a.id: a.sha256 for a in session.exec(select(Asset))}
    real = erasure_redaction.apply
    outcome: list[BaseException | None] = []
    threads: list[threading.Thread] = []

    def confirm() -> None:
        try:
            with rt.session() as session:
                identity.confirm_face(
                    session,
                    face_id=third_face["id"],
                    person_id=subject.person_id,
                    actor=subject.creative.user,
                )
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    def swapping(*args: Any, **kwargs: Any) -> Any:
        if not threads:
            threads.append(threading.Thread(target=confirm))
            threads[0].start()
            threads[0].join(1.5)
            assert threads[0].is_alive(), outcome  # waiting for the erasure
        return real(*args, **kwargs)

    monkeypatch.setattr(erasure_redaction, "apply", swapping)
    summary = erase(client, rt, subject, "redact")
    threads[0].join(30)
    assert not threads[0].is_alive()
    (error,) = outcome
    assert isinstance(error, NotFound | IntegrityError), error
    assert sorted(summary["assets_redacted"]) == sorted(subject.photo_ids)
    with rt.session() as session:
        face = session.get(Face, third_face["id"])
        assert face is not None and face.person_id is None
        assert face.state != FaceState.confirmed
        assert session.get(Person, subject.person_id) is None
    check_blurred(rt, subject.photo_ids, old)
    assert leftovers(rt, subject) == []
