"""A full disk is a state, not a crash: 507 before writing, readyz, jobs that wait."""

from __future__ import annotations

import errno
import io
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, col, select

from dam import disk, jobs
from dam.errors import StorageFull
from dam.models import AssetStatus, Job, JobStatus
from dam.runtime import Runtime
from dam.settings import Settings
from tests.conftest import Account

HUGE_MB = 10**9  # more free space than any disk has: every upload would go below it


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 90, 200)).save(out, "JPEG", quality=90)
    return out.getvalue()


def tmp_files(rt: Runtime) -> list[Path]:
    return [
        p for d in (rt.blobs.tmp_dir, rt.settings.uploads_dir) if d.exists() for p in d.iterdir()
    ]


# --- pure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "full"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), True),
        (sqlite3.OperationalError("database or disk is full"), True),
        (ValueError("Internal error: 'No space left on device (os error 28)'"), True),  # Tantivy
        (StorageFull("full"), True),
        (OSError(errno.EACCES, "Permission denied"), False),
        (ValueError("bad"), False),
    ],
)
def test_a_full_disk_is_recognised_whatever_layer_says_it(exc: BaseException, full: bool) -> None:
    assert disk.is_disk_full(exc) is full
    wrapped = RuntimeError("while writing")
    wrapped.__cause__ = exc
    assert disk.is_disk_full(wrapped) is full


# --- http: the guard -----------------------------------------------------------------------


def test_uploads_are_refused_with_507_before_a_byte_is_written(
    rt: Runtime, client: TestClient, creative: Account
) -> None:
    rt.settings.min_free_mb = HUGE_MB
    response = client.post(
        "/api/v1/assets", headers=creative.headers, files={"file": ("p.jpg", photo(), "image/jpeg")}
    )
    assert response.status_code == 507
    assert response.json()["error"]["code"] == "storage_full"
    assert "storage is full" in response.json()["error"]["message"]
    tus = client.post(
        "/api/v1/uploads",
        headers={**creative.headers, "Tus-Resumable": "1.0.0", "Upload-Length": "1000"},
    )
    assert tus.status_code == 507 and tus.json()["error"]["code"] == "storage_full"
    assert tmp_files(rt) == []
    assert client.get("/api/v1/assets", headers=creative.headers).json()["total"] == 0


def test_readyz_reports_storage_below_the_minimum(rt: Runtime, client: TestClient) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["parts"]["storage"] == "ok"
    rt.settings.min_free_mb = HUGE_MB
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "storage" in ready.json()["failing"]
    assert "must stay free" in ready.json()["parts"]["storage"]


# --- a real full disk: a small tmpfs ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or 'not root'}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    if leave:
        size = filler.stat().st_size
        with filler.open("r+b") as fh:
            fh.truncate(max(0, size - leave))
    return filler


class TestOnASmallDisk:
    """On an 8 MB tmpfs: the disk really fills up."""

    @pytest.fixture
    def settings(self, settings_factory: Callable[..., Settings], small_disk: Path) -> Settings:
        # The database stays outside (the fixture's), the files go to the small disk.
        return settings_factory(data_dir=small_disk / "data", min_free_mb=0, face_detection=False)

    def test_an_upload_that_runs_out_of_space_mid_write_answers_507_and_leaves_nothing(
        self, rt: Runtime, client: TestClient, creative: Account
    ) -> None:
        fill(rt.settings.data_dir, leave=1024 * 1024)

        def body() -> Iterator[bytes]:  # no Content-Length: the guard cannot judge it before
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n\r\n'
            yield photo()
            for _ in range(4):
                yield b"\1" * (1024 * 1024)
            yield b"\r\n--b--\r\n"

        response = client.post(
            "/api/v1/assets",
            headers={**creative.headers, "Content-Type": "multipart/form-data; boundary=b"},
            content=body(),
        )
        assert response.status_code == 507, response.text
        assert response.json()["error"]["code"] == "storage_full"
        assert tmp_files(rt) == []  # the partial file is gone

    def test_a_job_that_runs_out_of_space_waits_and_continues_once_there_is_space(
        self, rt: Runtime, client: TestClient, creative: Account, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(jobs, "STORAGE_RETRY_S", (0.2,))
        real = rt.runner.run
        held: list[str] = []
        monkeypatch.setattr(rt.runner, "run", lambda job_id: held.append(job_id))  # hold the jobs
        response = client.post(
            "/api/v1/assets",
            headers=creative.headers,
            files={"file": ("p.jpg", photo(), "image/jpeg")},
        )
        asset_id = response.json()["id"]
        monkeypatch.setattr(rt.runner, "run", real)
        filler = fill(rt.settings.data_dir)
        for job_id in held:  # probe, then renditions: the renditions cannot be written
            real(job_id)
        for _ in range(50):
            with Session(rt.engine) as session:
                waiting = session.exec(select(Job).where(col(Job.asset_id) == asset_id)).all()
            if any(j.error == jobs.WAITING_FOR_SPACE for j in waiting):
                break
            time.sleep(0.1)
        asset = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
        assert asset["status"] == AssetStatus.processing  # not failed: waiting for space
        assert any(
            j.status == JobStatus.queued and j.error == jobs.WAITING_FOR_SPACE for j in waiting
        )
        filler.unlink()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the timer re-queues; the inline queue runs it
            asset = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
            if asset["status"] != AssetStatus.processing:
                break
            time.sleep(0.2)
        assert asset["status"] == AssetStatus.ready, asset["error"]
