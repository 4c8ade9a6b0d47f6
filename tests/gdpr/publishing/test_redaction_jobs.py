"""A redacted video is made by a job, not inside the request: the download answers 202
with the job until the file is there, then the file; the job's outcome is its own (a
failure neither fails the asset nor is retried at every poll). Real ffmpeg, both
databases; a second runtime on the same database and data directory has a real queue
without consumers, so the job waits until the test runs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam import events, media, migrate
from dam.errors import ProcessingError
from dam.models import AssetStatus, Face, FaceState, Job, JobStatus, Role
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from gdpr.publishing import redaction
from tests import video_clips as clips
from tests.conftest import Account
from web.app import create_app

pytestmark = pytest.mark.one_database

ASK = "channel=internal&redact=true"


@pytest.fixture
def video_with_a_face(rt: Runtime, tmp_path: Path) -> str:
    """A processed video (the inline queue of `rt`) with one face nobody decided about."""
    path = clips.render(clips.Clip("redact-job", size="320x240", seconds=2.0), tmp_path)
    asset_id = clips.store(rt, path)
    assert clips.asset(rt, asset_id).status == AssetStatus.ready
    with rt.unit_of_work() as session:
        session.add(
            Face(
                asset_id=asset_id,
                box_x=0.3,
                box_y=0.2,
                box_w=0.25,
                box_h=0.35,
                time_s=0.0,
                time_end_s=2.0,
                score=0.99,
                detector="test",
                state=FaceState.unknown,
            )
        )
    return asset_id


@pytest.fixture
def queued(rt: Runtime, settings_factory: Callable[..., Settings]) -> Iterator[Runtime]:
    """A second runtime on rt's database and data directory whose queue nobody consumes."""
    later = build_runtime(settings_factory(queue_url=None))
    migrate.upgrade(later.engine)
    yield later
    later.close()


def ask(client: TestClient, account: Account, asset_id: str) -> Any:
    return client.get(f"/api/v1/assets/{asset_id}/download?{ASK}", headers=account.headers)


def redaction_jobs(rt: Runtime, asset_id: str) -> list[Job]:
    with rt.session() as session:
        return list(
            session.exec(
                select(Job).where(Job.asset_id == asset_id, Job.stage == redaction.VIDEO_TASK)
            )
        )


def test_a_redacted_video_is_made_by_a_job_and_served_when_ready(
    queued: Runtime,
    video_with_a_face: str,
    make_account: Callable[[Role], Account],
) -> None:
    asset_id, viewer = video_with_a_face, make_account(Role.viewer)
    processed: list[events.Event] = []
    queued.wiring.subscribe(events.AssetProcessed, lambda _rt, e: processed.append(e))
    with TestClient(create_app(queued), raise_server_exceptions=False) as client:
        first = ask(client, viewer, asset_id)
        assert first.status_code == 202, first.text
        body = first.json()
        assert body["status"] == "queued"
        assert body["status_url"] == f"/api/v1/jobs/{body['job_id']}"
        assert first.headers["location"] == body["status_url"]
        assert first.headers["retry-after"] == "2"
        assert body["download_url"] == f"/api/v1/assets/{asset_id}/download?{ASK}"
        # Asking again while it waits joins the same job.
        assert ask(client, viewer, asset_id).json()["job_id"] == body["job_id"]
        assert len(redaction_jobs(queued, asset_id)) == 1
        status = client.get(body["status_url"], headers=viewer.headers)
        assert status.status_code == 200, status.text
        assert (status.json()["stage"], status.json()["status"]) == ("redact_video", "queued")

        queued.runner.run(body["job_id"])  # what a worker does

        ready = ask(client, viewer, asset_id)
        assert ready.status_code == 200, ready.text
        assert ready.headers["content-type"] == "video/mp4"
        assert ready.content[4:8] == b"ftyp"
        done = client.get(body["status_url"], headers=viewer.headers).json()
        assert (done["status"], done["progress"]) == ("done", 1.0)
    # The job was no pipeline stage: the asset is as it was, nobody heard "processed".
    assert clips.asset(queued, asset_id).status == AssetStatus.ready
    assert processed == []


def test_a_failed_redaction_is_reported_and_leaves_the_asset_alone(
    queued: Runtime,
    video_with_a_face: str,
    make_account: Callable[[Role], Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asset_id, viewer = video_with_a_face, make_account(Role.viewer)
    real = media.video_blurrer(queued.wiring)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ProcessingError("ffmpeg could not blur this video.")

    queued.wiring.extend(media.VIDEO_BLURRER, "ffmpeg", broken)
    with TestClient(create_app(queued), raise_server_exceptions=False) as client:
        job_id = ask(client, viewer, asset_id).json()["job_id"]
        queued.runner.run(job_id)
        (job,) = redaction_jobs(queued, asset_id)
        assert (job.status, job.error) == (JobStatus.failed, "ffmpeg could not blur this video.")
        assert clips.asset(queued, asset_id).status == AssetStatus.ready
        # A recent failure is reported, not tried again at every poll.
        failed = ask(client, viewer, asset_id)
        assert failed.status_code == 422, failed.text
        assert failed.json()["error"]["code"] == "processing_failed"
        assert len(redaction_jobs(queued, asset_id)) == 1
        # Later it is tried again.
        monkeypatch.setattr(redaction, "RETRY_FAILED_AFTER_S", 0.0)
        queued.wiring.extend(media.VIDEO_BLURRER, "ffmpeg", real)
        again = ask(client, viewer, asset_id)
        assert again.status_code == 202, again.text
        queued.runner.run(again.json()["job_id"])
        assert ask(client, viewer, asset_id).status_code == 200


def test_an_inline_queue_serves_the_redacted_video_at_once(
    client: TestClient, video_with_a_face: str, make_account: Callable[[Role], Account]
) -> None:
    # `rt`'s queue runs jobs as they are committed (tests, small setups): no 202 then.
    response = ask(client, make_account(Role.viewer), video_with_a_face)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"


def test_the_redaction_job_declares_what_blurring_its_rendition_needs(
    rt: Runtime, video_with_a_face: str
) -> None:
    # ffmpeg re-encodes every frame of the download rendition: the job reserves that from
    # the memory budget before it starts, as the erasure's blur and a transcode do.
    from dam.jobs import StageContext
    from dam.models import Asset, Rendition
    from ingest.video import budget
    from tests.feed_factories import make_asset

    def need(asset_id: str, settings: Any = None) -> int:
        ctx = StageContext(
            job_id="j", asset_id=asset_id, runtime=rt, report_progress=lambda _f: None,
            settings=settings, params={"channel": "internal"},
        )  # fmt: skip
        return rt.wiring.memory[redaction.VIDEO_TASK](ctx)

    with rt.session() as session:
        asset = session.get(Asset, video_with_a_face)
        assert asset is not None
        rendition = redaction.egress.download_rendition(session, asset)
        width, height = rendition.width, rendition.height
    assert need(video_with_a_face) == budget.blur_need(width, height, False) > budget.BASE
    # A larger rendition needs more.
    with rt.unit_of_work() as session:
        stored = session.exec(
            select(Rendition).where(
                Rendition.asset_id == video_with_a_face, Rendition.name == rendition.name
            )
        ).one()
        stored.width, stored.height = 1920, 1080
    assert (
        need(video_with_a_face)
        == budget.blur_need(1920, 1080, False)
        > budget.blur_need(width, height, False)
    )
    assert need(make_asset(rt)) == 0  # a photo: no job of this kind, nothing reserved
    assert need("gone") == 0
    tight = rt.settings.model_copy(update={"job_memory_mb": 64})
    assert need(video_with_a_face, tight) == tight.job_memory_bytes  # runs alone, not refused
