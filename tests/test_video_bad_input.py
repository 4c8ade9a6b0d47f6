"""Broken and absurd video files end as a clear error or a sensible result: never a hung
worker, a crashed server, a half-written rendition or scratch files left behind.

SQLite only, like the transcode matrix: these exercise the probe and ffmpeg, not the
database (the job and HTTP paths run on both databases in test_video_jobs.py).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dam.models import AssetStatus
from dam.runtime import Runtime
from ingest.video.mp4box import check_web_file
from tests import db_templates
from tests import video_clips as clips
from tests.conftest import Account
from tests.corpus import message_problem
from tests.video_clips import Clip

pytestmark = pytest.mark.timeout(120)

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    # SQLite only; overrides the two-database fixture.
    target = tmp_path / "beeldbank.db"
    db_templates.copy_sqlite(sqlite_template, target)  # migrated once per worker
    yield f"sqlite:///{target}"


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-clips")


def boxes(
    data: bytes, start: int = 0, end: int | None = None, path: tuple[bytes, ...] = ()
) -> Iterator[tuple[tuple[bytes, ...], int, int]]:
    """(path, offset, size) of every box, descending into the structural ones."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        if size < 8:
            return
        yield (*path, kind), start, size
        if kind in _CONTAINERS:
            yield from boxes(data, start + 8, start + size, (*path, kind))
        start += size


def without_video_samples(data: bytes) -> bytes:
    """The video track keeps its description but loses every sample: a 0-frame stream."""
    out = bytearray(data)
    found = list(boxes(data))
    for _, trak, trak_size in [b for b in found if b[0][-1] == b"trak"]:
        inside = [b for b in found if trak < b[1] < trak + trak_size]
        handler = next(offset for path, offset, _ in inside if path[-1] == b"hdlr")
        if data[handler + 16 : handler + 20] != b"vide":
            continue
        for path, offset, _ in inside:
            if path[-1] in (b"stts", b"stss", b"ctts", b"stsc", b"stco", b"co64"):
                out[offset + 12 : offset + 16] = bytes(4)  # no entries
            elif path[-1] == b"stsz":
                out[offset + 12 : offset + 20] = bytes(8)  # no samples
    return bytes(out)


def outcome(rt: Runtime, path: Path) -> tuple[str, str | None, str]:
    asset_id = clips.store(rt, path)
    row = clips.asset(rt, asset_id)
    assert row.status != AssetStatus.processing  # ended, one way or the other
    assert clips.leftovers(rt) == []
    for rendition in clips.renditions(rt, asset_id).values():
        if rendition.mime == "video/mp4":
            check_web_file(rt.blobs.root / rendition.path)  # complete, never half written
    if row.error is not None:
        assert message_problem(row.error) is None
    return row.status, row.error, asset_id


SOURCE = Clip("source", seconds=2.0)


def test_a_recording_cut_off_before_its_index_fails_clearly(rt: Runtime, clip_dir: Path) -> None:
    data = clips.render(SOURCE, clip_dir).read_bytes()  # the index (moov) comes last
    cut = clip_dir / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    status, error, _ = outcome(rt, cut)
    assert status == AssetStatus.failed and error is not None and "moov atom" in error


def test_a_streamable_file_cut_short_converts_what_is_there(rt: Runtime, clip_dir: Path) -> None:
    source = clips.render(
        Clip("faststart", seconds=2.0, extra=("-movflags", "+faststart")), clip_dir
    )
    data = source.read_bytes()
    cut = clip_dir / "cut-faststart.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    status, _, asset_id = outcome(rt, cut)
    assert status == AssetStatus.ready
    row = clips.asset(rt, asset_id)
    assert row.duration_s is not None and 0.5 < row.duration_s < 1.8
    assert row.meta["truncated"]["claimed_s"] == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("damage", ["renamed", "garbage"])
def test_a_corrupt_moov_atom_fails_clearly(rt: Runtime, clip_dir: Path, damage: str) -> None:
    data = bytearray(
        clips.render(Clip("moov-first", extra=("-movflags", "+faststart")), clip_dir).read_bytes()
    )
    moov = data.find(b"moov")
    if damage == "renamed":
        data[moov : moov + 4] = b"junk"
    else:
        noise = random.Random(7)
        for i in range(moov + 100, moov + 700):
            data[i] = noise.randrange(256)
    broken = clip_dir / f"moov-{damage}.mp4"
    broken.write_bytes(bytes(data))
    status, error, _ = outcome(rt, broken)
    assert status == AssetStatus.failed and error


def test_a_zero_frame_video_track_fails_clearly(rt: Runtime, clip_dir: Path) -> None:
    empty = clip_dir / "zero-frames.mp4"
    empty.write_bytes(without_video_samples(clips.render(SOURCE, clip_dir).read_bytes()))
    status, error, _ = outcome(rt, empty)
    assert status == AssetStatus.failed and error is not None and "0 frames" in error


def test_an_audio_only_mp4_fails_clearly(rt: Runtime, clip_dir: Path) -> None:
    sound = clip_dir / "sound.mp4"
    clips.run([clips.ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
               "-i", "sine=duration=1", "-c:a", "aac", "-f", "mp4", str(sound)])  # fmt: skip
    status, error, _ = outcome(rt, sound)
    assert status == AssetStatus.failed and error is not None and "only sound" in error


def test_a_16k_video_is_refused_before_decoding(rt: Runtime, clip_dir: Path) -> None:
    huge = clips.render(
        Clip("16k", size="15360x8640", seconds=0.04, audio=None,
             source_filters=",format=yuv420p",
             video=("-c:v", "libx264", "-preset", "ultrafast", "-frames:v", "1")),
        clip_dir,
    )  # fmt: skip
    status, error, _ = outcome(rt, huge)
    assert status == AssetStatus.failed and error is not None and "15,360 × 8,640" in error


def test_a_header_claiming_decades_is_corrected_from_the_pictures(
    rt: Runtime, clip_dir: Path
) -> None:
    mkv = bytearray(clips.render(Clip("claims", "mkv", seconds=2.0), clip_dir).read_bytes())
    duration = mkv.find(b"\x44\x89\x88")  # Segment Info Duration, an 8-byte float (ms)
    mkv[duration + 3 : duration + 11] = struct.pack(">d", 1e12)  # 31 years
    liar = clip_dir / "liar.mkv"
    liar.write_bytes(bytes(mkv))
    status, _, asset_id = outcome(rt, liar)
    assert status == AssetStatus.ready
    assert clips.asset(rt, asset_id).duration_s == pytest.approx(2.0, abs=0.1)


def test_empty_and_audio_uploads_are_refused_at_the_door(
    client: TestClient, creative: Account
) -> None:
    for name, data, says in (
        ("empty.mp4", b"", "empty"),
        ("song.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A isommp42" + bytes(64), "audio"),
    ):
        response = client.post(
            "/api/v1/assets", headers=creative.headers, files={"file": (name, data, "video/mp4")}
        )
        assert response.status_code == 415
        assert says in response.json()["error"]["message"]
