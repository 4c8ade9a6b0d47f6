"""Crash recovery in seconds: dead owners' jobs taken over at start, leftovers removed,
media tools dying with the process that started them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import update
from sqlmodel import Session, col, select

from dam import leftovers, owner
from dam.models import AssetStatus, Job, JobStatus, Upload
from dam.owner import Owner
from dam.runtime import Runtime
from ingest.video import launch
from tests.conftest import Account
from tests.test_cli import cli_env, dam

__all__ = ["cli_env"]  # the CLI fixture, shared


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 40, 90)).save(out, "JPEG")
    return out.getvalue()


# --- pure-ish: who lives ---------------------------------------------------------------------


def test_an_owner_is_gone_when_its_process_ended_or_its_pid_was_reused(dead: Owner) -> None:
    me = owner.current()
    assert Owner.from_tag(me.tag) == Owner(me.host, me.boot[:8], me.pid, me.started)
    assert not owner.is_gone(me)
    assert owner.is_gone(dead)
    assert owner.is_gone(Owner(me.host, me.boot, me.pid, "1"))  # same pid, another start
    assert owner.is_gone(Owner(me.host, "0badb007", me.pid, me.started))  # before a reboot
    assert not owner.is_gone(Owner("elsewhere", me.boot, dead.pid, ""))  # unknowable: kept


# --- service: jobs of dead owners -------------------------------------------------------------


def test_a_starting_process_takes_over_the_jobs_of_ended_processes_at_once(
    rt: Runtime, client: TestClient, creative: Account, dead: Owner
) -> None:
    ids = []
    for colour in (10, 20):
        data = io.BytesIO()
        Image.new("RGB", (64, 64), (colour, 0, 0)).save(data, "JPEG")
        response = client.post(
            "/api/v1/assets",
            headers=creative.headers,
            files={"file": ("p.jpg", data.getvalue(), "image/jpeg")},
        )
        ids.append(response.json()["id"])
    me = owner.current()
    with Session(rt.engine) as session:
        # As a kill -9 leaves them: the assets processing, their last job running, claimed
        # a moment ago (the stale timeout is far away).
        for asset_id, who in zip(ids, (dead, me), strict=True):
            last = session.exec(
                select(Job)
                .where(col(Job.asset_id) == asset_id)
                .order_by(col(Job.created_at).desc())
            ).first()
            assert last is not None
            session.execute(
                update(Job)
                .where(col(Job.id) == last.id)
                .values(
                    status=JobStatus.running,
                    owner_host=who.host,
                    owner_boot=who.boot,
                    owner_pid=who.pid,
                    owner_started=who.started,
                )
            )
            from dam.models import Asset

            asset = session.get(Asset, asset_id)
            assert asset is not None
            asset.status = AssetStatus.processing
        session.commit()

    rt.recover()  # what `dam serve` / `dam worker` do when they start

    status = {
        i: client.get(f"/api/v1/assets/{i}", headers=creative.headers).json()["status"] for i in ids
    }
    assert status[ids[0]] == AssetStatus.ready  # the dead owner's job ran again at once
    assert status[ids[1]] == AssetStatus.processing  # a live owner's job is left alone
    with Session(rt.engine) as session:
        running = session.exec(select(Job).where(col(Job.status) == JobStatus.running)).all()
    assert [j.asset_id for j in running] == [ids[1]]


# --- leftovers -----------------------------------------------------------------------------


def make_leftovers(data_dir: Path, dead: Owner) -> dict[str, Path]:
    tmp, uploads = data_dir / "tmp", data_dir / "uploads"
    tmp.mkdir(parents=True, exist_ok=True)
    uploads.mkdir(parents=True, exist_ok=True)
    old = time.time() - 7200
    paths = {
        "dead spool": tmp / f"in-@{dead.tag}@abc",
        "dead scratch": tmp / f"video-x1-@{dead.tag}@def",
        "live spool": tmp / f"in-@{owner.current().tag}@ghi",
        "fresh untagged": tmp / "in-fresh",
        "old untagged": tmp / "in-old",
        "orphan upload": uploads / "0123abcd",
    }
    paths["dead scratch"].mkdir()
    (paths["dead scratch"] / "part.mp4").write_bytes(b"\0" * 2048)
    for name, path in paths.items():
        if name != "dead scratch":
            path.write_bytes(b"\0" * 1024)
    for name in ("old untagged", "orphan upload"):
        os.utime(paths[name], (old, old))
    return paths


def test_leftovers_without_a_living_owner_are_found_and_removed_at_start(
    rt: Runtime, creative: Account, dead: Owner
) -> None:
    paths = make_leftovers(rt.settings.data_dir, dead)
    live_upload = rt.settings.uploads_dir / "live1"
    live_upload.write_bytes(b"x")
    os.utime(live_upload, (time.time() - 7200,) * 2)
    with Session(rt.engine) as session:
        from datetime import timedelta

        from dam.clock import now

        session.add(
            Upload(
                id="live1",
                user_id=creative.user.id,
                length=10,
                upload_metadata={},
                expires_at=now() + timedelta(hours=1),
            )
        )
        session.commit()
    expected = {"dead spool", "dead scratch", "old untagged", "orphan upload"}
    found = {item.path for item in leftovers.find(rt.settings, rt.session)}
    assert found == {paths[name] for name in expected}

    rt.recover()

    assert {name for name, path in paths.items() if path.exists()} == {
        "live spool",
        "fresh untagged",
    }
    assert live_upload.exists()


def test_dam_check_reports_leftovers(cli_env: dict[str, str], dead: Owner) -> None:
    assert dam("migrate").exit_code == 0
    make_leftovers(Path(cli_env["DAM_DATA_DIR"]), dead)
    check = dam("check")
    assert check.exit_code == 1, check.output
    assert "4 leftover temp file(s)" in check.output
    assert f"leftover temp file tmp/in-@{dead.tag}@abc (1 kB, its process ended)" in check.output


# --- children die with their parent ----------------------------------------------------------


PARENT = """
import sys, time
sys.path.insert(0, sys.argv[2])
from ingest.video import launch
import subprocess
command = launch.command(["/bin/sleep", "60"], memory=0, niceness=5, mode=sys.argv[1])
child = subprocess.Popen(command, start_new_session=True)
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.fixture(params=["auto", "watch"])
def orphaned_child(request: pytest.FixtureRequest) -> Iterator[int]:
    """The pid of a `sleep` started through the launcher by a process then killed -9."""
    root = str(Path(launch.__file__).resolve().parents[2])
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, request.param, root], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    launcher_pid = int(parent.stdout.readline())
    time.sleep(0.5)  # let it exec (or fork) the tool
    tool = _tool_pid(launcher_pid)
    parent.kill()
    parent.wait()
    yield tool
    if _alive(tool):
        os.kill(tool, 9)


def _tool_pid(launcher_pid: int) -> int:
    """The `sleep`: the launcher itself after exec, or its child when it watches."""
    children = Path(f"/proc/{launcher_pid}/task/{launcher_pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return int(kids[0]) if kids else launcher_pid


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_a_media_tool_dies_with_the_process_that_started_it(orphaned_child: int) -> None:
    deadline = time.monotonic() + 5
    while _alive(orphaned_child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(orphaned_child)
