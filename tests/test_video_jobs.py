"""Video jobs as jobs: progress (the heartbeat), cancellation by deleting the asset, the
time limit, low priority, re-runs, and no scratch files left behind."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from dam import assets, auth
from dam.jobs import StageContext
from dam.models import Asset, AssetStatus, Job, JobStatus, Rendition, Role
from dam.runtime import Runtime
from dam.settings import Settings
from ingest.video import limits
from ingest.video.stages import render_video
from tests import video_clips as clips
from tests.video_clips import Clip

pytestmark = [pytest.mark.timeout(180), pytest.mark.one_database]

# Long and large enough that its transcode takes far longer than the test waits.
BUSY = Clip("busy", size="1280x720", seconds=30.0, video=("-c:v", "libx264", "-preset",
            "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p"))  # fmt: skip
# Long enough for several progress reports.
STEADY = Clip("steady", size="1280x720", seconds=12.0, video=BUSY.video)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("job-clips")


@pytest.fixture
def queued_rt(settings_factory: Callable[..., Settings]) -> Runtime:
    """A runtime whose queue holds jobs without running them: the test runs each one."""
    from dam import migrate
    from dam.runtime import build_runtime

    runtime = build_runtime(settings_factory(queue_url=None))
    migrate.upgrade(runtime.engine)
    yield runtime  # type: ignore[misc]
    runtime.close()


def job_for(rt: Runtime, asset_id: str, stage: str) -> Job:
    with rt.session() as session:
        job = session.exec(select(Job).where(Job.asset_id == asset_id, Job.stage == stage)).first()
    assert job is not None, f"no {stage} job"
    return job


def start(rt: Runtime, job_id: str) -> threading.Thread:
    thread = threading.Thread(target=rt.runner.run, args=(job_id,), daemon=True)
    thread.start()
    return thread


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def ffmpeg_pids(asset_id: str) -> list[int]:
    """ffmpeg processes whose command line names this asset's scratch directory (not the
    launcher that becomes one: until its exec it runs at the parent's priority)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            program = (entry / "comm").read_text()
        except OSError:
            continue
        if f"video-{asset_id}-".encode() in cmdline and program.startswith("ffmpeg"):
            found.append(int(entry.name))
    return found


def niceness(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def transcoding(rt: Runtime, asset_id: str) -> Callable[[], bool]:
    def check() -> bool:
        # The encode has reported once (at production's nice 19 on a busy machine the
        # first report can take long; more is not needed) and its ffmpeg still runs.
        return job_for(rt, asset_id, "video_renditions").progress > 0 and bool(
            ffmpeg_pids(asset_id)
        )

    return check


def test_deleting_the_asset_stops_its_transcode_and_leaves_nothing(
    queued_rt: Runtime, clip_dir: Path, production_niceness: int
) -> None:
    rt = queued_rt
    asset_id = clips.store(rt, clips.render(BUSY, clip_dir))
    rt.runner.run(job_for(rt, asset_id, "video_probe").id)
    worker = start(rt, job_for(rt, asset_id, "video_renditions").id)
    wait_for(transcoding(rt, asset_id))
    pids = ffmpeg_pids(asset_id)
    assert production_niceness == 19
    assert pids and all(niceness(pid) == 19 for pid in pids)  # low priority ...
    for pid in pids:  # ... also where the kernel schedules sessions as groups
        group = Path(f"/proc/{pid}/autogroup")
        if group.exists():
            assert group.read_text().split()[-1] == "19"
    with rt.session() as session:
        user = auth.create_user(
            session, email="del@example.test", password="correct horse battery", role=Role.admin
        )
        session.commit()
        deleted = time.monotonic()
        assets.delete_asset(session, asset_id=asset_id, actor=user, blobs=rt.blobs)
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert time.monotonic() - deleted < 5  # stopped, not finished (that takes far longer)
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)
    assert clips.leftovers(rt) == []
    assert not rt.blobs.derived_dir(asset_id).exists()
    with rt.session() as session:
        assert session.exec(select(Rendition).where(Rendition.asset_id == asset_id)).first() is None
        assert session.get(Asset, asset_id) is None


def test_progress_is_reported_while_transcoding(queued_rt: Runtime, clip_dir: Path) -> None:
    rt = queued_rt
    asset_id = clips.store(rt, clips.render(STEADY, clip_dir))
    rt.runner.run(job_for(rt, asset_id, "video_probe").id)
    job_id = job_for(rt, asset_id, "video_renditions").id
    worker = start(rt, job_id)
    seen: list[float] = []
    while worker.is_alive():
        with rt.session() as session:
            row = session.get(Job, job_id)
            assert row is not None
            if row.status == JobStatus.running and (not seen or row.progress != seen[-1]):
                seen.append(row.progress)
        time.sleep(0.1)
    done = job_for(rt, asset_id, "video_renditions")
    assert done.status == JobStatus.done and done.progress == 1.0
    between = [p for p in seen if 0.07 < p < 0.98]
    assert len(between) >= 2, seen  # reported during the encode, not only at the end
    assert seen == sorted(seen)
    assert clips.leftovers(rt) == []


def test_a_transcode_over_its_time_limit_is_stopped(
    queued_rt: Runtime, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = queued_rt
    asset_id = clips.store(rt, clips.render(BUSY, clip_dir))
    rt.runner.run(job_for(rt, asset_id, "video_probe").id)
    monkeypatch.setattr(limits, "TIME_LIMIT_BASE_S", 1.5)
    monkeypatch.setattr(limits, "TIME_LIMIT_PER_VIDEO_S", 0.0)
    started = time.monotonic()
    rt.runner.run(job_for(rt, asset_id, "video_renditions").id)
    assert time.monotonic() - started < 20
    row = clips.asset(rt, asset_id)
    assert row.status == AssetStatus.failed
    assert row.error is not None and "took longer than" in row.error
    assert ffmpeg_pids(asset_id) == []
    assert clips.leftovers(rt) == []
    assert clips.renditions(rt, asset_id) == {}
    derived = rt.blobs.derived_dir(asset_id)
    assert not derived.exists() or list(derived.iterdir()) == []


def test_running_a_stage_again_replaces_its_files(rt: Runtime, clip_dir: Path) -> None:
    asset_id = clips.store(rt, clips.render(Clip("again", size="160x120"), clip_dir))
    before = clips.renditions(rt, asset_id)["web_720"]
    job = job_for(rt, asset_id, "video_renditions")
    ctx = StageContext(
        job_id=job.id,
        asset_id=asset_id,
        runtime=rt,
        report_progress=lambda _f: None,
    )
    render_video(ctx)
    after = clips.renditions(rt, asset_id)["web_720"]
    assert after.path != before.path
    assert (rt.blobs.root / after.path).exists()
    assert not (rt.blobs.root / before.path).exists()
    names = sorted(p.name.split("-")[0] for p in rt.blobs.derived_dir(asset_id).iterdir())
    assert names == ["poster", "storyboard", "storyboard_vtt", "thumb", "web_720"]


def test_video_upload_over_http_becomes_a_playable_asset(
    client: object, creative: object, clip_dir: Path
) -> None:
    from fastapi.testclient import TestClient

    from tests.conftest import Account

    assert isinstance(client, TestClient) and isinstance(creative, Account)
    path = clips.render(Clip("http", size="160x120"), clip_dir)
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("clip.bin", path.read_bytes(), "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    body = client.get(f"/api/v1/assets/{response.json()['id']}", headers=creative.headers).json()
    assert (body["kind"], body["status"], body["mime"]) == ("video", "ready", "video/mp4")
    assert (body["width"], body["height"]) == (160, 120)
    assert body["duration_s"] == pytest.approx(1.0, abs=0.05)
    names = {r["name"] for r in body["renditions"]}
    assert {"web_720", "poster", "thumb", "storyboard", "storyboard_vtt"} <= names
    web = client.get(
        f"/api/v1/assets/{body['id']}/renditions/web_720",
        headers={**creative.headers, "Range": "bytes=0-99"},
    )
    assert web.status_code == 206 and len(web.content) == 100
    assert web.headers["content-type"] == "video/mp4"
    jobs = client.get("/api/v1/jobs", params={"asset_id": body["id"]}, headers=creative.headers)
    assert [j["stage"] for j in jobs.json()] == [
        "video_probe",
        "video_renditions",
        "video_storyboard",
        "video_faces",
        "identity",
    ]
    assert os.listdir(Path(client.app.state.runtime.blobs.tmp_dir)) == []  # type: ignore[attr-defined]


def test_the_sweeper_removes_scratch_a_crashed_worker_left(rt: Runtime) -> None:
    from ingest.video.scratch import ABANDONED_AFTER_S

    tmp = rt.blobs.tmp_dir
    long_ago = time.time() - ABANDONED_AFTER_S - 60

    def make(name: str, *, old: bool, directory: bool = True) -> Path:
        path = tmp / name
        if directory:
            path.mkdir()
            (path / "web_720.mp4").write_bytes(b"half written")
            if old:
                os.utime(path / "web_720.mp4", (long_ago, long_ago))
        else:
            path.write_bytes(b"x")
        if old:
            os.utime(path, (long_ago, long_ago))
        return path

    crashed = make("video-0123abc-x1", old=True)
    running = make("video-0123abc-x2", old=False)
    download = make("captioned-old.mp4", old=True, directory=False)
    upload = make("in-someone-elses", old=True, directory=False)
    rt.run_periodic()
    assert not crashed.exists() and not download.exists()
    assert running.exists() and upload.exists()
