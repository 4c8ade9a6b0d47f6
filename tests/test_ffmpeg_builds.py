"""Which ffmpeg Beeldbank runs, and the video pipeline with the ffmpeg a server already has.

Beeldbank prefers the ffmpeg on PATH when it qualifies (version and every encoder, decoder,
demuxer, muxer and filter the commands use) and otherwise runs the bundled build, with a
notice at start and in `dam doctor`. The rest of the video suite runs with the bundled
build; here a subset of it runs with Debian's own ffmpeg 5.1 (installed by scripts/test).
SQLite only, like the other pipeline tests: ffmpeg is what varies here, not the database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.test_video_legacy as legacy
import tests.test_video_pipeline as pipeline
from dam.runtime import Runtime
from ingest import ffmpeg
from ingest.video.toolbox import check_video
from tests import db_templates, ffmpeg_builds
from tests.conftest import unavailable

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    target = tmp_path / "beeldbank.db"
    db_templates.copy_sqlite(sqlite_template, target)
    yield f"sqlite:///{target}"


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build-clips")


@pytest.fixture(scope="module")
def debian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's ffmpeg first on PATH for this module's pipeline tests."""
    if not os.access(ffmpeg_builds.DEBIAN, os.X_OK):
        unavailable(f"Debian's ffmpeg is not installed at {ffmpeg_builds.DEBIAN}")
    with ffmpeg_builds.first_on_path(ffmpeg_builds.DEBIAN, tmp_path_factory.mktemp("debian")):
        yield ffmpeg_builds.DEBIAN


@pytest.mark.parametrize(
    ("line", "version"),
    [
        ("ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026", (5, 1)),
        ("ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright", (9, 0)),
        ("ffmpeg version 4.3.6-0+deb11u1 Copyright", (4, 3)),
        ("ffmpeg version N-112233-gabcdef Copyright", None),  # a snapshot: no number
        ("", None),
    ],
)
def test_versions_are_read_from_the_banner(line: str, version: tuple[int, int] | None) -> None:
    assert ffmpeg.parse_version(line) == version


def test_debian_ffmpeg_qualifies_and_is_chosen(debian: str) -> None:
    choice = ffmpeg.choose()
    assert choice.origin == "PATH" and choice.notice is None
    assert choice.binary is not None and Path(choice.binary).resolve() == Path(debian).resolve()
    build = ffmpeg.inspect(choice.binary)
    assert build.version is not None and build.version >= ffmpeg.MIN_VERSION
    assert build.shortcomings() == []


AN_OLD_FFMPEG = """#!/bin/sh
case "$2" in
  -version) echo "ffmpeg version 4.3.6-0+deb11u1 Copyright (c) 2000-2023";;
  -encoders) printf ' V..... libx264   H.264\\n A..... mp2   MP2\\n';;
  -codecs) printf ' DEV.LS h264   H.264\\n';;
  -demuxers) printf ' D  mov,mp4,m4a   QuickTime\\n';;
  -muxers) printf '  E mp4   MP4\\n';;
  -filters) printf ' ... scale   V->V   Scale\\n';;
esac
"""


def test_an_ffmpeg_that_does_not_qualify_is_passed_over_with_a_notice(
    rt: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = tmp_path / "old-ffmpeg"
    old.write_text(AN_OLD_FFMPEG)
    old.chmod(0o755)
    caplog.set_level(logging.INFO)
    (tmp_path / "bin").mkdir()
    with ffmpeg_builds.first_on_path(str(old), tmp_path / "bin"):
        rt.recover()  # what `dam serve` and `dam worker` do when their consumers start
        choice = ffmpeg.choose()
        findings = {f.name: f for f in check_video(rt)}
    assert choice.origin == "bundled" and choice.binary == ffmpeg_builds.bundled()
    notice = choice.notice or ""
    assert "version 4.3 is older than 5.1" in notice and "no encoders aac" in notice
    assert "Using the ffmpeg bundled with imageio-ffmpeg instead" in notice
    assert notice in caplog.text  # said at start ...
    passed_over = findings["video ffmpeg on PATH"]  # ... and by the doctor
    assert passed_over.state == "missing" and "older than 5.1" in passed_over.detail
    assert findings["video ffmpeg"].state == "ok" and "bundled" in findings["video ffmpeg"].detail
    assert findings["video encoders, decoders, demuxers and filters"].state == "ok"


# The subset run with Debian's ffmpeg: the legacy containers and codecs, interlacing,
# undecodable sound, loudness normalisation, 10-bit HLG tone mapping, pixel shape.
LEGACY_SUBSET = ["xvid-avi", "h263-amr-3gp", "dv-pal", "wmv2-wma", "theora-ogv", "interlaced-mod"]
MATRIX_SUBSET = ["plain", "hevc-10bit-hlg", "anamorphic"]


@pytest.mark.parametrize(
    "case", [c for c in legacy.LEGACY if c[0].name in LEGACY_SUBSET], ids=LEGACY_SUBSET
)
def test_debian_ffmpeg_converts_legacy_video(
    debian: str, rt: Runtime, clip_dir: Path, case: tuple
) -> None:
    legacy.test_legacy_video_becomes_web_versions(rt, clip_dir, *case)


@pytest.mark.parametrize(
    "case", [c for c in pipeline.MATRIX if c[0].name in MATRIX_SUBSET], ids=MATRIX_SUBSET
)
def test_debian_ffmpeg_transcode_matrix(
    debian: str, rt: Runtime, clip_dir: Path, case: tuple
) -> None:
    pipeline.test_transcode_matrix(rt, clip_dir, *case)


def test_debian_ffmpeg_deinterlaces(debian: str, rt: Runtime, clip_dir: Path) -> None:
    legacy.test_interlaced_material_is_deinterlaced(rt, clip_dir)


def test_debian_ffmpeg_leaves_undecodable_sound_out(
    debian: str, rt: Runtime, clip_dir: Path, tmp_path: Path
) -> None:
    legacy.test_sound_that_cannot_be_decoded_is_left_out_and_said(rt, clip_dir, tmp_path)


@pytest.mark.parametrize("volume", [0.05, 4.0])
def test_debian_ffmpeg_normalises_loudness(
    debian: str, rt: Runtime, clip_dir: Path, volume: float
) -> None:
    pipeline.test_web_audio_is_normalised_to_ebu_r128(rt, clip_dir, volume)


def test_debian_ffmpeg_does_not_amplify_silence(debian: str, rt: Runtime, clip_dir: Path) -> None:
    pipeline.test_silence_is_not_amplified(rt, clip_dir)
