"""Memory stays bounded: decodes planned from the header, jobs run within a budget."""

from __future__ import annotations

import io
import platform
import random
import struct
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from dam import jobs
from dam.jobs import StageContext
from dam.memory import (
    DEFAULT_BUDGET_BYTES,
    MemoryLedger,
    TooBigForBudget,
    default_limit_bytes,
    machine_memory_bytes,
    reuse_freed_memory,
)
from dam.models import AssetStatus, Job, JobStatus
from dam.runtime import Runtime
from dam.settings import Settings
from ingest.faces import mtcnn
from ingest.image.budget import RENDITIONS_OVERHEAD, PhotoPlan, faces_memory
from ingest.image.decode import _to_8bit_gray
from ingest.image.plan import JpegFrame, decode_need, draft_scale, read_jpeg_frame
from ingest.image.renditions import LARGEST_EDGE
from ingest.video import budget as video_budget
from tests.conftest import Account

pytestmark = pytest.mark.one_database

SIDE = 14_000  # 196 MP, under the 200 MP pixel limit


def bomb(*, progressive: bool, pad_to: int = 0) -> bytes:
    """A tiny JPEG whose frame header claims SIDE x SIDE pixels."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 100, 50)).save(
        out, "JPEG", progressive=progressive, quality=50
    )
    data = bytearray(out.getvalue())
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC2):
            data[i + 5 : i + 9] = struct.pack(">HH", SIDE, SIDE)
            break
        i += 2 + length
    if pad_to:
        rng = random.Random(1)
        data[-2:-2] = bytes(rng.randrange(255) for _ in range(pad_to - len(data)))
    return bytes(data)


# --- pure: the plan ------------------------------------------------------------------


def test_the_frame_header_is_read_without_decoding() -> None:
    frame = read_jpeg_frame(io.BytesIO(bomb(progressive=True)))
    assert frame is not None
    assert (frame.width, frame.height, frame.progressive, frame.huffman) == (SIDE, SIDE, True, True)
    # Pillow saves 4:2:0: a full-size luma plane and two quarter-size chroma planes.
    assert frame.sampling == ((2, 2), (1, 1), (1, 1))
    assert frame.blocks == 1750 * 1750 + 2 * 875 * 875
    assert frame.smallest_file == frame.blocks // 8
    assert read_jpeg_frame(io.BytesIO(b"\x89PNG\r\n\x1a\n")) is None
    assert read_jpeg_frame(io.BytesIO(b"\xff\xd8\xff\xda\x00\x02")) is None  # data first


@pytest.mark.parametrize(
    ("width", "height", "edge", "scale"),
    [
        (14_000, 14_000, 2560, 4),
        (6000, 4000, 2560, 2),
        (2560, 1440, 2560, 1),
        (30_000, 500, 400, 8),
    ],
)
def test_draft_scale_matches_what_pillow_picks(
    width: int, height: int, edge: int, scale: int
) -> None:
    assert draft_scale(width, height, edge) == scale
    # ...which is what Pillow's draft() picks for the same request.
    out = io.BytesIO()
    Image.new("RGB", (width // 10, height // 10)).save(out, "JPEG")
    with Image.open(out) as image:
        small_edge = max(1, edge // 10)
        landscape = image.width >= image.height
        image.draft(None, (small_edge, 1) if landscape else (1, small_edge))
        assert image.size[0] in (-(-width // 10 // scale), width // 10 // scale)


def test_a_progressive_jpeg_needs_its_whole_coefficient_array() -> None:
    common = {"format": "JPEG", "mode": "RGB", "width": SIDE, "height": SIDE, "long_edge": 2560}
    baseline = decode_need(**common, frame=JpegFrame(0xC0, SIDE, SIDE, ((2, 2), (1, 1), (1, 1))))
    progressive = decode_need(**common, frame=JpegFrame(0xC2, SIDE, SIDE, ((2, 2), (1, 1), (1, 1))))
    assert baseline < 300 * 1024**2  # decoded at 1/4: 3500 x 3500
    assert progressive - baseline == (1750**2 + 2 * 875**2) * 64 * 2  # 588 MB of coefficients
    png = decode_need(format="PNG", mode="RGB", width=SIDE, height=SIDE, long_edge=2560)
    assert png > SIDE * SIDE * 4  # no scaled decode for other formats


def _jpeg_plan(width: int, height: int, *, progressive: bool) -> PhotoPlan:
    frame = JpegFrame(0xC2 if progressive else 0xC0, width, height, ((2, 2), (1, 1), (1, 1)))
    return PhotoPlan(
        "JPEG",
        width,
        height,
        False,
        lambda edge: decode_need(
            format="JPEG", mode="RGB", width=width, height=height, long_edge=edge, frame=frame
        ),
    )


def test_two_196_megapixel_photos_never_decode_side_by_side_in_the_default_budget() -> None:
    bomb = _jpeg_plan(SIDE, SIDE, progressive=True)
    renditions = bomb.need(LARGEST_EDGE) + RENDITIONS_OVERHEAD
    # The faces stage decodes the original again for its detail picture (the progressive
    # file's coefficients again): declared, not left out.
    faces = faces_memory(bomb, edge=2560, smallest_face=20)
    assert faces > renditions
    assert 2 * renditions > DEFAULT_BUDGET_BYTES
    # ...while ordinary work still runs two at a time: a 24-megapixel photo's faces stage
    # beside a 4K transcode.
    photo = faces_memory(_jpeg_plan(6000, 4000, progressive=False), edge=2560, smallest_face=20)
    transcode = video_budget.BASE + 3840 * 2160 * 1.5 * video_budget.FRAMES_IN_FLIGHT
    assert photo + transcode <= DEFAULT_BUDGET_BYTES


def test_a_high_bit_depth_picture_is_scaled_to_8_bits_without_a_float_copy_of_the_whole() -> None:
    width, height = 3000, 2000
    values = (np.arange(width * height, dtype=np.uint32) % 65536).astype(np.uint16)
    image = Image.fromarray(values.reshape(height, width))
    tracemalloc.start()
    try:
        gray = _to_8bit_gray(image)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # float64 arrays of the whole took 32 bytes a pixel; one would take 8.
    assert peak < width * height * 8
    assert gray.mode == "L" and gray.getpixel((2999, 0)) == 2999 // 257


# --- pure: the ledger ----------------------------------------------------------------


def test_the_ledger_holds_a_job_until_its_need_fits() -> None:
    ledger = MemoryLedger(100)
    order: list[str] = []
    with ledger.reserve(70):
        waiting = threading.Thread(target=lambda: _reserve(ledger, 50, order))
        waiting.start()
        time.sleep(0.2)
        assert order == []  # 70 + 50 > 100: it waits
        with ledger.reserve(30):  # this one fits beside the first
            order.append("small")
        order.append("first done")
    waiting.join(5)
    assert order == ["small", "first done", "second"]
    assert ledger.in_use == 0


def _reserve(ledger: MemoryLedger, need: int, order: list[str]) -> None:
    with ledger.reserve(need):
        order.append("second")


def test_the_ledger_refuses_a_job_bigger_than_the_whole_budget() -> None:
    with (
        pytest.raises(TooBigForBudget, match=r"more than the 1 kB"),
        MemoryLedger(1024).reserve(4096),
    ):
        pass


def test_a_job_bigger_than_the_budget_runs_alone_up_to_the_limit() -> None:
    ledger = MemoryLedger(100, limit=300)
    events: list[str] = []
    finish = threading.Event()

    def big() -> None:
        with ledger.reserve(250):
            events.append("big runs")
            finish.wait(5)

    with ledger.reserve(30):
        alone = threading.Thread(target=big)
        alone.start()
        time.sleep(0.2)
        assert events == []  # it waits until nothing else runs
    deadline = time.monotonic() + 5
    while "big runs" not in events and time.monotonic() < deadline:
        time.sleep(0.01)
    small = threading.Thread(target=lambda: _reserve(ledger, 10, events))
    small.start()
    time.sleep(0.2)
    assert events == ["big runs"]  # nothing runs beside it
    finish.set()
    alone.join(5)
    small.join(5)
    assert events == ["big runs", "second"] and ledger.in_use == 0
    with pytest.raises(TooBigForBudget, match="more than the 300 B"), ledger.reserve(301):
        pass


def test_the_default_budget_is_bounded_whatever_the_machine(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(job_memory_mb=None)
    half = machine_memory_bytes() // 2
    assert settings.job_memory_bytes == min(DEFAULT_BUDGET_BYTES, half)
    assert settings.job_memory_limit_bytes == default_limit_bytes() == half
    chosen = settings.model_copy(update={"job_memory_mb": 300})
    assert chosen.job_memory_bytes == chosen.job_memory_limit_bytes == 300 * 1024**2


def test_a_waiting_job_keeps_its_heartbeat() -> None:
    ledger = MemoryLedger(10)
    beats: list[int] = []

    def wait_for_room() -> None:
        with ledger.reserve(5, waiting=lambda: beats.append(1), poll_s=0.05):
            beats.append(0)

    with ledger.reserve(10):
        waiter = threading.Thread(target=wait_for_room)
        waiter.start()
        time.sleep(0.3)
        assert beats and 0 not in beats  # heartbeats while it waits, not yet run
    waiter.join(5)
    assert beats[-1] == 0 and ledger.in_use == 0


# --- pure: the face detector looks at big pictures in tiles ---------------------------


class _RecordingNet:
    def __init__(self, net: object) -> None:
        self.net = net
        self.shapes: list[tuple[int, ...]] = []

    def setInput(self, blob: np.ndarray) -> None:
        self.shapes.append(blob.shape)
        self.net.setInput(blob)  # type: ignore[attr-defined]

    def forward(self, names: list[str]) -> object:
        return self.net.forward(names)  # type: ignore[attr-defined]


def test_p_net_sees_a_big_level_in_tiles_and_gives_every_cell_as_in_one_piece() -> None:
    detector = mtcnn.MtcnnDetector()
    level = np.random.default_rng(0).integers(0, 256, (1200, 1301, 3), dtype=np.uint8)
    detector._pnet.setInput(mtcnn._normalise(level)[None].transpose(0, 2, 1, 3))
    _regression, probability = detector._pnet.forward(["conv2d_4", "softmax"])
    recording = _RecordingNet(detector._pnet)
    detector._pnet = recording  # type: ignore[assignment]
    detector.detect(level, min_face=12)  # the pyramid's first level: the picture itself
    # Activations take ~150 bytes per input pixel: the level (1.6 MP) is never looked at
    # in one piece, only in tiles (the last of a row or column takes a short remainder).
    largest_tile = (mtcnn.PNET_TILE * 3 // 2 + 10) ** 2
    assert max(shape[1] * shape[2] for shape in recording.shapes) <= largest_tile < level.size // 3
    xs, ys, scores, _offsets = detector._pnet_cells(level, 0.0)  # every cell
    whole = probability[0, :, :, 1]
    assert len(xs) == whole.size  # each cell once
    tiled = np.zeros_like(whole)
    tiled[xs, ys] = scores
    np.testing.assert_allclose(tiled, whole, atol=1e-4)


# --- service: the runner keeps to the budget ---------------------------------------------


@pytest.fixture
def budget_stage(rt: Runtime) -> Iterator[list[tuple[str, float, float]]]:
    """A stage that declares 80 bytes and records when it ran."""
    runs: list[tuple[str, float, float]] = []

    def handler(ctx: StageContext) -> None:
        started = time.monotonic()
        time.sleep(0.3)
        runs.append((ctx.job_id, started, time.monotonic()))

    def need(ctx: StageContext) -> int:
        return 80 if ctx.settings.workers >= 0 else 0

    rt.wiring.add_stage("test_budget", handler, memory=need)
    yield runs


def _uploaded(client: TestClient, account: Account, data: bytes, name: str = "p.jpg") -> str:
    response = client.post(
        "/api/v1/assets", headers=account.headers, files={"file": (name, data, "image/jpeg")}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_two_jobs_whose_needs_exceed_the_budget_never_run_side_by_side(
    rt: Runtime, client: TestClient, creative: Account, budget_stage: list[tuple[str, float, float]]
) -> None:
    asset_id = _uploaded(client, creative, _photo())
    with Session(rt.engine, expire_on_commit=False) as session:
        job_rows = [Job(asset_id=asset_id, stage="test_budget") for _ in range(2)]
        session.add_all(job_rows)
        session.commit()
    rt.runner.ledger = MemoryLedger(100)
    threads = [threading.Thread(target=rt.runner.run, args=(j.id,)) for j in job_rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    (_, _, end_a), (_, start_b, _) = sorted(budget_stage, key=lambda r: r[1])
    assert end_a <= start_b  # one after the other
    rt.runner.ledger = MemoryLedger(50)  # now 80 is more than the whole budget
    with Session(rt.engine, expire_on_commit=False) as session:
        too_big = Job(asset_id=asset_id, stage="test_budget")
        session.add(too_big)
        session.commit()
    rt.runner.run(too_big.id)
    with Session(rt.engine) as session:
        row = session.get(Job, too_big.id)
        assert row is not None and row.status == JobStatus.failed
        assert "more than the 50 B this server gives one job" in (row.error or "")


def test_a_worker_gives_freed_memory_back_once_the_queue_has_nothing_more_for_it(
    rt: Runtime,
    client: TestClient,
    creative: Account,
    budget_stage: list[tuple[str, float, float]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Trimmed after every job, the next photo faulted its pages in again; kept while work
    # waits, the next job reuses them.
    asset_id = _uploaded(client, creative, _photo())
    trims: list[int] = []
    monkeypatch.setattr(jobs, "release_free_memory", lambda: trims.append(1))
    waiting = [3]
    monkeypatch.setattr(rt.queue, "pending_count", lambda: waiting[0])
    with Session(rt.engine, expire_on_commit=False) as session:
        rows = [Job(asset_id=asset_id, stage="test_budget") for _ in range(2)]
        session.add_all(rows)
        session.commit()
    rt.runner.run(rows[0].id)
    assert len(budget_stage) == 1 and trims == []  # more work waits: the memory is kept
    waiting[0] = 0
    rt.runner.run(rows[1].id)
    assert len(budget_stage) == 2 and trims == [1]  # nothing waits: given back
    assert reuse_freed_memory() is (platform.libc_ver()[0] == "glibc")


# --- http: the 196 MP headers ---------------------------------------------------------------


def test_a_cut_off_196_megapixel_jpeg_fails_from_its_header(
    rt: Runtime, client: TestClient, creative: Account
) -> None:
    data = bomb(progressive=True)
    assert len(data) < 1000
    asset = client.get(
        f"/api/v1/assets/{_uploaded(client, creative, data)}", headers=creative.headers
    ).json()
    assert asset["status"] == AssetStatus.failed
    assert "cut off" in asset["error"] and "14,000 × 14,000" in asset["error"]
    original = client.get(f"/api/v1/assets/{asset['id']}/original", headers=creative.headers)
    assert original.status_code == 200 and original.content == data  # the original is kept


@pytest.fixture
def settings(settings_factory):  # type: ignore[no-untyped-def]
    return settings_factory(job_memory_mb=256)


def test_a_progressive_196_megapixel_jpeg_over_the_budget_fails_before_decoding(
    rt: Runtime, client: TestClient, creative: Account
) -> None:
    data = bomb(progressive=True, pad_to=700_000)  # long enough to pass the cut-off check
    asset = client.get(
        f"/api/v1/assets/{_uploaded(client, creative, data)}", headers=creative.headers
    ).json()
    assert asset["status"] == AssetStatus.failed
    assert "14,000 × 14,000 pixels (196 megapixels)" in asset["error"]
    assert "more than the 256 MB this server gives one job" in asset["error"]


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, "JPEG")
    return out.getvalue()
