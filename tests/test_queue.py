"""The real job queue: Huey consumer threads on the SQLite queue and on Redis.

Every test runs on both queues and both databases. Nothing is faked but the clock: the
images are real, the stages are the real photo pipeline (some wrapped to count their
runs or to crash), and jobs travel through Huey to consumer threads.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlmodel import col, select

from dam import clock, jobs, migrate
from dam.jobs import StageContext
from dam.models import Asset, AssetKind, AssetStatus, Job, JobStatus, Rendition
from dam.plugins import builtin_wiring
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from dam.wiring import StageHandler
from ingest.faces.stage import DecodedPhoto
from ingest.receive import create_asset
from ingest.sniff import HEAD_BYTES, sniff
from tests import media
from tests.conftest import REDIS_URL, Account, unavailable

SETTLE_TIMEOUT_S = 60.0


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def queue_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: the default SQLite queue in the data dir; otherwise the test Redis, emptied."""
    if request.param == "sqlite-queue":
        yield None
        return
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable(f"Redis at {REDIS_URL} unreachable: {exc}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], queue_url: str | None) -> Settings:
    """Overrides conftest's: `rt`, `client` and the accounts here use a real queue."""
    return settings_factory(queue_url=queue_url)


# helpers --------------------------------------------------------------------------------


def store(rt: Runtime, data: bytes, *, enqueue: bool = True) -> tuple[str, str]:
    """Store `data` as a new asset; returns (asset id, first job id).

    With enqueue=False the job is committed through a session that lost its queue, which is
    what a crash between the commit and the enqueue leaves behind.
    """
    stored = rt.blobs.put_stream([data])
    session = rt.session()
    if not enqueue:
        del session.info["queue"]
    with session:
        received = create_asset(
            session, stored=stored, sniffed=sniff(data[:HEAD_BYTES]), filename="p.jpg", owner=None
        )
        assert not received.duplicate
        asset_id = received.asset.id
        # The first stage's job (a running consumer may already have added the next).
        job_id = session.exec(
            select(Job.id).where(Job.asset_id == asset_id).order_by(col(Job.created_at))
        ).first()
        assert job_id is not None
    return asset_id, job_id


def assets_of(rt: Runtime, asset_ids: list[str]) -> dict[str, Asset]:
    with rt.session() as session:
        return {a.id: a for a in session.exec(select(Asset).where(col(Asset.id).in_(asset_ids)))}


def wait_until_settled(rt: Runtime, asset_ids: list[str]) -> dict[str, Asset]:
    """Poll until no asset is still processing (bounded); returns the assets by id."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        assets = assets_of(rt, asset_ids)
        busy = [a.id for a in assets.values() if a.status == AssetStatus.processing]
        if not busy:
            return assets
        if time.monotonic() > deadline:
            pytest.fail(
                f"{len(busy)} of {len(asset_ids)} assets still processing after "
                f"{SETTLE_TIMEOUT_S:.0f}s; queue holds {rt.queue.pending_count()}"
            )
        time.sleep(0.1)


def jobs_of(rt: Runtime, asset_id: str) -> list[Job]:
    with rt.session() as session:
        return list(
            session.exec(select(Job).where(Job.asset_id == asset_id).order_by(col(Job.created_at)))
        )


def job(rt: Runtime, job_id: str) -> Job:
    with rt.session() as session:
        row = session.get(Job, job_id)
        assert row is not None
        return row


def image_stages() -> list[str]:
    """The photo pipeline as the plugins registered it (probe, renditions, faces, ...)."""
    return builtin_wiring().pipeline_for(AssetKind.image)


IMAGE_STAGES = image_stages()


def count_stage_runs(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """Wrap the runtime's photo stages so each real run is counted per (asset, stage)."""
    runs: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()
    for name in rt.wiring.pipeline_for(AssetKind.image):
        real = rt.wiring.stages[name]

        def counted(ctx: StageContext, real: StageHandler = real, name: str = name) -> None:
            with lock:
                runs[(ctx.asset_id, name)] += 1
            real(ctx)

        monkeypatch.setitem(rt.wiring.stages, name, counted)
    return runs


def move_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the job runner's and sweeper's clock `seconds` ahead."""
    monkeypatch.setattr(jobs, "now", lambda: clock.now() + timedelta(seconds=seconds))


def upload(client: TestClient, account: Account, data: bytes, name: str) -> str:
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (name, data, "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# the pipeline through consumer threads ---------------------------------------------------


def test_uploads_wait_on_the_queue_until_consumer_threads_process_them(
    rt: Runtime, client: TestClient, creative: Account
) -> None:
    images = [
        ("a.jpg", media.jpeg(900, 600, seed=21)),
        ("b.jpg", media.jpeg(640, 480, seed=22, orientation=6)),
        ("c.png", media.png(500, 400, seed=23)),
        ("d.jpg", media.jpeg(1200, 800, seed=24)),
        ("e.png", media.png(300, 200, mode="RGBA", seed=25)),
    ]
    ids = [upload(client, creative, data, name) for name, data in images]
    # No consumer yet: the work waits on the queue, nothing ran inline.
    assert rt.queue.pending_count() == len(ids)
    assert {a.status for a in assets_of(rt, ids).values()} == {AssetStatus.processing}

    rt.queue.start_consumer(2)
    assets = wait_until_settled(rt, ids)

    assert {i: a.status for i, a in assets.items()} == dict.fromkeys(ids, AssetStatus.ready)
    assert (assets[ids[1]].width, assets[ids[1]].height) == (640, 480)  # upright, EXIF 6
    for asset_id in ids:
        done = [(j.stage, j.status, j.attempts) for j in jobs_of(rt, asset_id)]
        assert done == [(stage, JobStatus.done, 1) for stage in IMAGE_STAGES]
    with rt.session() as session:
        renditions = session.exec(select(Rendition).where(col(Rendition.asset_id).in_(ids))).all()
    assert len(renditions) == 3 * len(ids)
    assert all(rt.blobs.derived_dir(r.asset_id).is_dir() for r in renditions)
    assert rt.queue.pending_count() == 0


def test_a_photos_faces_job_runs_right_after_its_renditions_in_the_same_worker(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run there, the faces stage gets the renditions stage's decode: the original is
    # decoded once. A camera-sized JPEG (DCT-scaled to half size for the large
    # rendition) also hands on that half-size decode, the faces stage's detail picture.
    ran: dict[tuple[str, str], tuple[int, object]] = {}
    for name in ("renditions", "faces"):
        real = rt.wiring.stages[name]

        def watched(ctx: StageContext, real: StageHandler = real, name: str = name) -> None:
            real(ctx)
            ran[(ctx.asset_id, name)] = (threading.get_ident(), ctx.received)

        monkeypatch.setitem(rt.wiring.stages, name, watched)
    sent: list[str] = []
    send = rt.queue.enqueue

    def enqueue(job_ids: Iterable[str]) -> None:
        job_ids = list(job_ids)
        sent.extend(job_ids)
        send(job_ids)

    monkeypatch.setattr(rt.queue, "enqueue", enqueue)
    camera = media.jpeg(5200, 3000, seed=31, orientation=6)
    ids = [store(rt, data)[0] for data in (camera, media.jpeg(seed=32), media.png(seed=33))]

    rt.queue.start_consumer(2)
    assets = wait_until_settled(rt, ids)

    assert {a.status for a in assets.values()} == {AssetStatus.ready}
    for asset_id in ids:
        renditions_thread, _ = ran[(asset_id, "renditions")]
        faces_thread, handed = ran[(asset_id, "faces")]
        assert faces_thread == renditions_thread
        assert isinstance(handed, DecodedPhoto) and handed.sha256 == assets[asset_id].sha256
        faces_job = next(j for j in jobs_of(rt, asset_id) if j.stage == "faces")
        assert faces_job.id not in sent  # never on the queue
        assert faces_job.status == JobStatus.done
    camera_handed = ran[(ids[0], "faces")][1]
    assert isinstance(camera_handed, DecodedPhoto)
    assert camera_handed.full_size == (5200, 3000)  # upright (stored turned: EXIF 6)
    assert camera_handed.working.size == (2560, 1477)
    assert camera_handed.detail is not None and camera_handed.detail.size == (2600, 1500)
    small_handed = ran[(ids[1], "faces")][1]
    assert isinstance(small_handed, DecodedPhoto) and small_handed.detail is None
    # The renditions job runs right after the probe, in its worker, and never goes on the
    # queue either; the probe (the first) and identity (gdpr's) go through it.
    for asset_id in ids:
        jobs = {j.stage: j.id for j in jobs_of(rt, asset_id)}
        assert jobs["renditions"] not in sent
        assert {jobs["probe"], jobs["identity"]} <= set(sent)


def test_consumer_starts_off_the_main_thread_and_leaves_the_signals_alone(rt: Runtime) -> None:
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {s: signal.getsignal(s) for s in watched}
    problems: list[BaseException] = []

    def start() -> None:
        try:
            rt.queue.start_consumer(1)
        except BaseException as exc:
            problems.append(exc)

    starter = threading.Thread(target=start)
    starter.start()
    starter.join(10)
    assert problems == []
    # Ctrl+C and SIGTERM still belong to the host process (uvicorn, `dam worker`, pytest).
    assert {s: signal.getsignal(s) for s in watched} == before

    asset_id, _ = store(rt, media.jpeg(seed=31))
    assert wait_until_settled(rt, [asset_id])[asset_id].status == AssetStatus.ready


# the sweeper --------------------------------------------------------------------------


@pytest.mark.parametrize("lost", ["never_enqueued", "dropped_by_the_queue"])
def test_sweeper_requeues_a_lost_job_once_it_is_older_than_the_interval(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, lost: str
) -> None:
    if lost == "never_enqueued":
        asset_id, job_id = store(rt, media.jpeg(seed=41), enqueue=False)
    else:
        asset_id, job_id = store(rt, media.jpeg(seed=41))
        assert rt.queue.pending_count() == 1
        rt.queue.huey.flush()  # the queue's storage lost it (Redis restarted without AOF...)
    assert rt.queue.pending_count() == 0

    def sweep() -> int:
        return jobs.sweep(rt)

    # Younger than the interval: it may still be on its way to the queue.
    move_clock(monkeypatch, rt.settings.sweep_interval_s - 5)
    assert sweep() == 0
    assert rt.queue.pending_count() == 0

    move_clock(monkeypatch, rt.settings.sweep_interval_s + 1)
    assert sweep() == 1
    assert rt.queue.pending_count() == 1
    # While the queue holds work a queued job may just be waiting: no duplicates are sent.
    assert sweep() == 0
    assert rt.queue.pending_count() == 1

    rt.queue.start_consumer(1)
    assert wait_until_settled(rt, [asset_id])[asset_id].status == AssetStatus.ready
    assert job(rt, job_id).attempts == 1


def test_consumer_sweeper_loop_finds_lost_work_by_itself(
    settings_factory: Callable[..., Settings], queue_url: str | None
) -> None:
    runtime = build_runtime(settings_factory(queue_url=queue_url, sweep_interval_s=1))
    try:
        migrate.upgrade(runtime.engine)
        asset_id, _ = store(runtime, media.jpeg(seed=51), enqueue=False)
        assert runtime.queue.pending_count() == 0
        runtime.queue.start_consumer(1)
        # Nothing enqueued the job; only the consumer's own sweeper (every second) can.
        assert wait_until_settled(runtime, [asset_id])[asset_id].status == AssetStatus.ready
    finally:
        runtime.close()


def test_job_stuck_running_with_an_old_heartbeat_is_run_again(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    asset_id, job_id = store(rt, media.jpeg(seed=61), enqueue=False)
    # A worker claimed the job and died (machine lost): the row says running, nobody works.
    with rt.session() as session:
        row = session.get(Job, job_id)
        assert row is not None
        row.status, row.attempts = JobStatus.running, 1
        row.started_at = row.heartbeat_at = clock.now()
        session.add(row)
        session.commit()

    def sweep() -> int:
        return jobs.sweep(rt)

    # A fresh heartbeat means someone is working on it: neither swept nor claimable.
    move_clock(monkeypatch, rt.settings.job_stale_after_s - 5)
    assert sweep() == 0
    rt.runner.run(job_id)
    assert (job(rt, job_id).status, job(rt, job_id).attempts) == (JobStatus.running, 1)

    move_clock(monkeypatch, rt.settings.job_stale_after_s + 1)
    assert sweep() == 1
    rt.queue.start_consumer(1)
    assert wait_until_settled(rt, [asset_id])[asset_id].status == AssetStatus.ready
    rerun = job(rt, job_id)
    assert (rerun.status, rerun.attempts) == (JobStatus.done, 2)


# at most once -------------------------------------------------------------------------


def test_job_delivered_twice_at_once_runs_once(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = count_stage_runs(rt, monkeypatch)
    asset_id, job_id = store(rt, media.jpeg(seed=71), enqueue=False)
    barrier = threading.Barrier(2)

    def deliver() -> None:
        barrier.wait()
        rt.runner.run(job_id)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert runs[(asset_id, "probe")] == 1
    probe = job(rt, job_id)
    assert (probe.status, probe.attempts) == (JobStatus.done, 1)


def test_job_id_on_the_queue_twice_runs_once(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = count_stage_runs(rt, monkeypatch)
    asset_id, job_id = store(rt, media.jpeg(seed=72))
    rt.queue.enqueue([job_id])  # e.g. the sweeper re-sent it while it was still queued
    assert rt.queue.pending_count() == 2
    rt.queue.start_consumer(2)
    assert wait_until_settled(rt, [asset_id])[asset_id].status == AssetStatus.ready
    assert runs == {(asset_id, stage): 1 for stage in IMAGE_STAGES}
    assert [(j.stage, j.attempts) for j in jobs_of(rt, asset_id)] == [
        (stage, 1) for stage in IMAGE_STAGES
    ]


# failure isolation --------------------------------------------------------------------


def test_failing_jobs_mark_their_asset_failed_and_the_consumer_goes_on(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    truncated = media.jpeg(1200, 900, seed=81)
    cut_id, _ = store(rt, truncated[: len(truncated) // 2])
    crash_id, _ = store(rt, media.jpeg(seed=82))
    good_ids = [store(rt, media.jpeg(seed=83 + i))[0] for i in range(3)]

    real_renditions = rt.wiring.stages["renditions"]

    def renditions_crashing_for_one(ctx: StageContext) -> None:
        if ctx.asset_id == crash_id:
            raise MemoryError("simulated out-of-memory in a codec")
        real_renditions(ctx)

    monkeypatch.setitem(rt.wiring.stages, "renditions", renditions_crashing_for_one)
    # One thread: the same consumer must carry on past both failures.
    rt.queue.start_consumer(1)
    assets = wait_until_settled(rt, [cut_id, crash_id, *good_ids])

    assert assets[cut_id].status == AssetStatus.failed
    assert "cut off" in (assets[cut_id].error or "")
    assert assets[crash_id].status == AssetStatus.failed
    # A crash is told in general words (what it was goes to the log), as a message id
    # the pages show in their reader's language.
    assert assets[crash_id].error == jobs.CRASHED
    assert assets[crash_id].error_message == {"id": jobs.CRASHED, "params": {}}
    assert "MemoryError" not in (assets[crash_id].error or "")
    assert [assets[i].status for i in good_ids] == [AssetStatus.ready] * 3

    crashed = jobs_of(rt, crash_id)
    assert [(j.stage, j.status) for j in crashed] == [
        ("probe", JobStatus.done),
        ("renditions", JobStatus.failed),
    ]
    assert crashed[-1].error == assets[crash_id].error
    assert crashed[-1].error_message == assets[crash_id].error_message
    assert [(j.stage, j.status) for j in jobs_of(rt, cut_id)] == [
        ("probe", JobStatus.done),  # the header is intact; decoding the pixels fails
        ("renditions", JobStatus.failed),
    ]
    assert rt.blobs.original_path(assets[cut_id].sha256).exists()


def test_a_job_about_no_asset_whose_task_nobody_registered_fails_on_its_own(
    rt: Runtime,
) -> None:
    # A worker wired without the plugin that registered the task (an older version, say):
    # the job fails with a reason instead of staying `running` for the sweeper to re-run.
    with rt.unit_of_work() as session:
        job_id = jobs.schedule(session, stage="no_such_task", params={"run_id": "x"}).id
    rt.runner.run(job_id)
    failed = job(rt, job_id)
    assert (failed.status, failed.asset_id) == (JobStatus.failed, None)
    assert failed.error == jobs.CRASHED  # the missing handler is named in the log
