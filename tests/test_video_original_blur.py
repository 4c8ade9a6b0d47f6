"""A stored video original re-encoded with regions blurred (what an erasure with
assets=redact does to a video): the command reads only the one file with its own demuxer
and keeps the sound and tags; a real phone clip turned on its side comes out upright, its
sound kept losslessly, the region blurred and the rest as it was."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from dam.media import BlurRegion
from ingest.ffmpeg import ffmpeg_binary
from ingest.video import frames, limits
from ingest.video.blur import (
    ORIGINAL_CRF,
    blur_original,
    original_blur_command,
    original_time_limit,
)
from ingest.video.info import AudioInfo, VideoInfo
from ingest.video.probe import probe
from ingest.video.tags import read_tags
from tests import video_clips as clips
from tests.video_clips import Clip

pytestmark = pytest.mark.one_database


def info(*, audio: AudioInfo | None, interlaced: bool = False) -> VideoInfo:
    return VideoInfo(
        container="Matroska", duration_s=10.0, width=1440, height=1080,
        display_width=1920, display_height=1080, rotation=0, mirrored=False,
        sar=Fraction(4, 3), fps=25.0, variable_frame_rate=False, codec="h264", profile="High",
        pix_fmt="yuv420p", bit_depth=8, hdr=None, interlaced=interlaced, bit_rate=None,
        audio=audio, tags=read_tags(),
    )  # fmt: skip


def sound(codec: str) -> AudioInfo:
    return AudioInfo(index=2, codec=codec, channels=2, sample_rate=48000, bit_rate=None)


def test_the_original_blur_command_reads_only_the_file_and_keeps_sound_and_tags(
    tmp_path: Path,
) -> None:
    regions = [BlurRegion(10, 20, 100, 120, 1.0, 4.5)]
    args = original_blur_command(
        "/usr/bin/ffmpeg", tmp_path / "in.mkv", tmp_path / "out.mp4", demuxer="matroska",
        info=info(audio=sound("aac"), interlaced=True), width=1920, height=1080,
        regions=regions,
    )  # fmt: skip
    text = " ".join(args)
    assert args[args.index("-f") + 1] == "matroska"
    assert args[args.index("-format_whitelist") + 1] == "matroska"
    assert args[args.index("-protocol_whitelist") + 1] == "file,pipe"
    graph = args[args.index("-filter_complex") + 1]
    # Deinterlaced, then the picture as shown (square pixels), then blurred.
    assert graph.index("bwdif") < graph.index("scale=1920:1080") < graph.index("crop=100:120")
    assert "setsar=1" in graph and "between(t\\,1.000\\,4.500)" in graph
    assert args[args.index("-crf") + 1] == str(ORIGINAL_CRF)
    assert "0:2" in args and "-c:a:0 copy" in text
    # The file's own tags stay (the erasure overwrites the name in them afterwards).
    assert "-map_metadata" not in args and "-map_chapters" not in args

    def sound_args(codec: str, *, copy: bool = True) -> tuple[str, str | None]:
        made = original_blur_command(
            "/usr/bin/ffmpeg", tmp_path / "in.mkv", tmp_path / "out.mp4", demuxer="matroska",
            info=info(audio=sound(codec)), width=1920, height=1080, regions=[],
            copy_sound=copy,
        )  # fmt: skip
        rate = made[made.index("-b:a:0") + 1] if "-b:a:0" in made else None
        return made[made.index("-c:a:0") + 1], rate

    assert sound_args("pcm_s24le") == ("alac", None)
    assert sound_args("opus") == ("copy", None)
    assert sound_args("wmav2") == ("aac", "320k")
    assert sound_args("aac", copy=False) == ("aac", "320k")
    silent = original_blur_command(
        "/usr/bin/ffmpeg", tmp_path / "in.mkv", tmp_path / "out.mp4", demuxer="matroska",
        info=info(audio=None), width=1920, height=1080, regions=[],
    )  # fmt: skip
    assert not any(a.startswith("-c:a") for a in silent)
    assert "crop=" not in silent[silent.index("-filter_complex") + 1]


def test_every_sound_track_is_kept_each_as_mp4_can_hold_it(tmp_path: Path) -> None:
    tracks = (sound("aac"), replace(sound("pcm_s16le"), index=3), replace(sound("wmav2"), index=5))
    args = original_blur_command(
        "/usr/bin/ffmpeg", tmp_path / "in.mkv", tmp_path / "out.mp4", demuxer="matroska",
        info=replace(info(audio=tracks[0]), audio_tracks=tracks), width=1920, height=1080,
        regions=[],
    )  # fmt: skip
    maps = [args[i + 1] for i, a in enumerate(args) if a == "-map"]
    assert maps[1:] == ["0:2", "0:3", "0:5"]
    chosen = {a: args[i + 1] for i, a in enumerate(args) if a.startswith(("-c:a", "-b:a"))}
    assert chosen == {"-c:a:0": "copy", "-c:a:1": "alac", "-c:a:2": "aac", "-b:a:2": "320k"}


def test_a_larger_master_gets_more_time_than_the_web_versions() -> None:
    assert original_time_limit(60.0, 1280, 720) == limits.time_limit(60.0)
    assert original_time_limit(60.0, 1920, 1080) == limits.time_limit(60.0)
    assert original_time_limit(60.0, 3840, 2160) == 4 * limits.time_limit(60.0)


def test_a_turned_phone_clip_comes_out_upright_with_its_sound_and_the_region_blurred(
    tmp_path: Path,
) -> None:
    turned = clips.render(
        Clip("turned-pcm", "mov", size="320x180", rate=25, audio=("-c:a", "pcm_s16le"),
             remux_input=("-display_rotation", "90")),
        tmp_path,
    )  # fmt: skip
    source = probe(turned, label="QuickTime MOV")
    assert source.rotation == 90 and source.audio is not None
    out = tmp_path / "blurred.mp4"
    region = BlurRegion(20, 40, 120, 140)
    heard: list[float] = []
    blur_original(turned, out, width=180, height=320, regions=[region], progress=heard.append)

    made = probe(out, label="MP4")
    assert (made.display_width, made.display_height, made.rotation) == (180, 320, 0)
    assert made.codec == "h264" and made.audio is not None and made.audio.codec == "alac"
    assert made.duration_s == pytest.approx(source.duration_s, abs=0.1)
    assert heard and all(0.0 <= f <= 1.0 for f in heard)

    binary = ffmpeg_binary()
    assert binary is not None
    before = frames.still(binary, turned, at_s=0.5, width=180, height=320)
    after = frames.still(binary, out, at_s=0.5, width=180, height=320)
    assert before is not None and after is not None
    old, new = before.pixels.astype(float), after.pixels.astype(float)
    box = np.s_[region.top : region.top + region.height, region.left : region.left + region.width]

    def detail(pixels: np.ndarray) -> float:
        return float(np.abs(np.diff(pixels, axis=1)).mean())

    assert detail(new[box]) < detail(old[box]) / 4
    outside = np.ones(old.shape[:2], dtype=bool)
    outside[box] = False
    assert np.abs(old[outside] - new[outside]).mean() < 4.0


def test_a_second_sound_track_stays(tmp_path: Path) -> None:
    # A commentary beside the main sound (MKV, the second as PCM): both come out, the
    # first copied, the second lossless.
    two = clips.render(
        Clip("two-tracks", "mkv", size="320x180", rate=25, audio=("-c:a", "aac"),
             extra=("-map", "1:a", "-c:a:1", "pcm_s16le", "-metadata:s:a:1", "language=eng")),
        tmp_path,
    )  # fmt: skip
    source = probe(two, label="Matroska")
    assert len(source.audio_tracks) == 2
    out = tmp_path / "blurred.mp4"
    blur_original(two, out, width=320, height=180, regions=[], progress=lambda _f: None)
    made = probe(out, label="MP4")
    assert [t.codec for t in made.audio_tracks] == ["aac", "alac"]
    assert made.audio is not None and made.audio.codec == "aac"
