"""The video pipeline end to end with real ffmpeg and a real probe: accepted inputs,
the transcode matrix, rotation, posters, storyboards and loudness.

These run on SQLite only: they exercise ffmpeg, not the database, and running the
transcode matrix twice would double the suite's largest cost for no extra coverage.
The database-facing paths (jobs, captions, playback API) run on both in the other
video test modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dam.models import AssetStatus
from dam.runtime import Runtime
from ingest.ffmpeg import ffmpeg_binary
from ingest.sniff import HEAD_BYTES, sniff
from ingest.video import commands, frames, process
from ingest.video.info import VideoInfo
from ingest.video.loudness import parse_ebur128_summary
from ingest.video.mp4box import top_level_boxes
from ingest.video.probe import probe
from tests import db_templates
from tests import video_clips as clips
from tests.video_clips import AAC, Clip

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    # SQLite only (see the module docstring); overrides the two-database fixture.
    target = tmp_path / "beeldbank.db"
    db_templates.copy_sqlite(sqlite_template, target)  # migrated once per worker
    yield f"sqlite:///{target}"


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


def probe_file(path: Path) -> VideoInfo:
    with path.open("rb") as fh:
        label = sniff(fh.read(HEAD_BYTES)).label
    return probe(path, label=label)


ACCEPTED = [
    (Clip("h264-mp4"), "MP4", "h264"),
    (Clip("hevc-mov", "mov", video=("-c:v", "libx265", "-preset", "ultrafast", "-tag:v",
          "hvc1", "-x265-params", "log-level=error")), "QuickTime MOV", "hevc"),
    (Clip("prores-mov", "mov", video=("-c:v", "prores_ks", "-profile:v", "0"),
          audio=("-c:a", "pcm_s16le")), "QuickTime MOV", "prores"),
    (Clip("h264-m4v", "m4v", audio=None), "M4V", "h264"),
    (Clip("h264-3gp", "3gp", audio=("-c:a", "aac", "-ac", "1", "-ar", "16000")), "3GP", "h264"),
    (Clip("vp9-webm", "webm", video=("-c:v", "libvpx-vp9", "-deadline", "realtime",
          "-cpu-used", "8", "-b:v", "300k"), audio=("-c:a", "libopus")), "WebM", "vp9"),
    (Clip("vp8-webm", "webm", video=("-c:v", "libvpx", "-deadline", "realtime", "-cpu-used",
          "8", "-b:v", "300k"), audio=("-c:a", "libvorbis")), "WebM", "vp8"),
    (Clip("av1-mkv", "mkv", video=("-c:v", "libsvtav1", "-preset", "11", "-svtav1-params",
          "loglevel=0"), audio=("-c:a", "libopus")), "Matroska", "av1"),
    (Clip("mjpeg-avi", "avi", video=("-c:v", "mjpeg", "-q:v", "5"),
          audio=("-c:a", "pcm_s16le")), "AVI", "mjpeg"),
    (Clip("mpeg2-ts", "ts", video=("-c:v", "mpeg2video", "-q:v", "5"),
          audio=("-c:a", "mp2")), "MPEG-TS", "mpeg2video"),
    (Clip("h264-m2ts", "m2ts", audio=("-c:a", "ac3"), extra=("-f", "mpegts",
          "-mpegts_m2ts_mode", "1")), "M2TS", "h264"),
    (Clip("dnxhr-mxf", "mxf", video=("-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt",
          "yuv422p"), audio=("-c:a", "pcm_s16le")), "MXF", "dnxhd"),
    (Clip("mpeg2-mxf", "mxf", video=("-c:v", "mpeg2video", "-q:v", "5"),
          audio=("-c:a", "pcm_s16le")), "MXF", "mpeg2video"),
]  # fmt: skip


@pytest.mark.parametrize(("clip", "label", "codec"), ACCEPTED, ids=[c.name for c, _, _ in ACCEPTED])
def test_accepted_inputs_are_sniffed_and_probed(
    clip_dir: Path, clip: Clip, label: str, codec: str
) -> None:
    path = clips.render(clip, clip_dir)
    assert sniff(path.read_bytes()[:HEAD_BYTES]).label == label
    info = probe_file(path)
    assert info.codec == codec
    assert (info.display_width, info.display_height) == (320, 240)
    assert info.duration_s == pytest.approx(1.0, abs=0.1)
    assert (info.audio is not None) == (clip.audio is not None)


HEVC = ("-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
        "-x265-params", "log-level=error")  # fmt: skip
# The first 15 frames at 30 fps, the next 15 at 10 fps: a phone's variable frame rate.
VFR = ",setpts='if(lt(N,15),N/30,0.5+(N-15)/10)/TB'"

MATRIX = [
    # clip, expected web_720 size, web_1080 size or None
    (Clip("plain"), (320, 240), None),
    (Clip("no-audio", audio=None), (320, 240), None),
    (Clip("vfr", source_filters=VFR, audio=None, extra=("-fps_mode", "passthrough")),
     (320, 240), None),
    (Clip("hevc-in-mov", "mov", video=HEVC), (320, 240), None),
    (Clip("vp9-in-webm", "webm", video=("-c:v", "libvpx-vp9", "-deadline", "realtime",
          "-cpu-used", "8", "-b:v", "300k"), audio=("-c:a", "libopus")), (320, 240), None),
    (Clip("prores-in-mov", "mov", video=("-c:v", "prores_ks", "-profile:v", "0"),
          audio=("-c:a", "pcm_s24le")), (320, 240), None),
    (Clip("mpeg2-in-ts", "ts", video=("-c:v", "mpeg2video", "-q:v", "5"),
          audio=("-c:a", "mp2")), (320, 240), None),
    (Clip("odd-1919x1079", "mov", size="1920x1080", seconds=0.5,
          source_filters=",scale=1919:1079,setsar=1,format=yuv444p",
          video=("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")),
     (1280, 718), None),
    (Clip("hevc-10bit-hlg", video=(*HEVC, "-pix_fmt", "yuv420p10le"), source_filters=(
          ",setparams=color_trc=arib-std-b67:color_primaries=bt2020:colorspace=bt2020nc")),
     (320, 240), None),
    (Clip("full-hd", size="1920x1080", seconds=0.5, audio=None), (1280, 720), (1920, 1080)),
    (Clip("anamorphic", "mov", size="1440x1080", seconds=0.5, audio=None,
          source_filters=",setsar=4/3"), (1280, 720), (1920, 1080)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("clip", "size_720", "size_1080"), MATRIX, ids=[c.name for c, _, _ in MATRIX]
)
def test_transcode_matrix(
    rt: Runtime,
    clip_dir: Path,
    clip: Clip,
    size_720: tuple[int, int],
    size_1080: tuple[int, int] | None,
) -> None:
    source = clips.render(clip, clip_dir)
    source_info = probe_file(source)
    asset_id = clips.store(rt, source)
    row = clips.asset(rt, asset_id)
    assert row.status == AssetStatus.ready, row.error
    assert row.duration_s == pytest.approx(source_info.duration_s, abs=0.01)
    made = clips.renditions(rt, asset_id)
    expected = {"web_720", "poster", "thumb", "storyboard", "storyboard_vtt"}
    assert set(made) == expected | ({"web_1080"} if size_1080 else set())
    for name, size in (("web_720", size_720), ("web_1080", size_1080)):
        if size is None:
            continue
        path = rt.blobs.root / made[name].path
        web = probe_file(path)
        assert (web.codec, web.profile, web.pix_fmt) == ("h264", "High", "yuv420p")
        assert (web.display_width, web.display_height) == size == (web.width, web.height)
        assert web.sar == 1 and web.rotation == 0
        assert web.duration_s == pytest.approx(source_info.duration_s, abs=0.1)
        if source_info.audio is None:
            assert web.audio is None
        else:
            assert web.audio is not None and web.audio.codec == "aac"
            assert web.audio.sample_rate == 48000
        kinds = [kind for kind, _ in top_level_boxes(path)]
        assert kinds.index("moov") < kinds.index("mdat"), kinds  # fast start
        assert (made[name].width, made[name].height) == size
    assert clips.leftovers(rt) == []
    facts = row.meta["video"]
    assert facts["variable_frame_rate"] is (clip.name == "vfr")
    assert facts["bit_depth"] == (10 if clip.name in ("hevc-10bit-hlg", "prores-in-mov") else 8)


def corner_colours(pixels: np.ndarray) -> np.ndarray:
    """Mean colour of a 4 x 4 grid: enough to tell which way a test pattern is turned."""
    h, w = pixels.shape[:2]
    return np.array(
        [
            pixels[r * h // 4 : (r + 1) * h // 4, c * w // 4 : (c + 1) * w // 4].mean(axis=(0, 1))
            for r in range(4)
            for c in range(4)
        ]
    )


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_phone_clips_are_shown_upright(rt: Runtime, clip_dir: Path, rotation: int) -> None:
    plain = clips.render(Clip("turn-source", "mov", size="320x180", audio=None), clip_dir)
    turned = clips.render(
        Clip("turned", "mov", size="320x180", audio=None,
             remux_input=("-display_rotation", str(rotation))),
        clip_dir,
    )  # fmt: skip
    assert probe_file(turned).rotation == rotation
    asset_id = clips.store(rt, turned)
    web = rt.blobs.root / clips.renditions(rt, asset_id)["web_720"].path
    binary = ffmpeg_binary()
    assert binary is not None
    source = frames.still(binary, plain, at_s=0.5, width=320, height=180)
    size = (180, 320) if rotation in (90, 270) else (320, 180)
    shown = frames.still(binary, web, at_s=0.5, width=size[0], height=size[1])
    assert source is not None and shown is not None
    # -display_rotation N asks players to turn the picture N degrees counter-clockwise.
    expected = np.rot90(source.pixels, k=rotation // 90)
    distances = {
        k * 90: float(
            np.abs(
                corner_colours(np.rot90(source.pixels, k=k)) - corner_colours(shown.pixels)
            ).mean()
        )
        for k in range(4)
        if np.rot90(source.pixels, k=k).shape == expected.shape
    }
    assert min(distances, key=lambda k: distances[k]) == rotation, distances


def test_poster_is_a_representative_frame_not_the_black_opening(
    rt: Runtime, clip_dir: Path
) -> None:
    clip = Clip("fade-in", seconds=4.0, audio=None, source_filters=",fade=t=in:st=1.5:d=0.4")
    asset_id = clips.store(rt, clips.render(clip, clip_dir))
    row, made = clips.asset(rt, asset_id), clips.renditions(rt, asset_id)
    assert row.meta["poster_time_s"] >= 2.0
    from PIL import Image

    with Image.open(rt.blobs.root / made["poster"].path) as poster:
        assert poster.size == (320, 240)
        assert np.asarray(poster.convert("L")).mean() > 40
    vtt = (rt.blobs.root / made["storyboard_vtt"].path).read_text()
    assert vtt.count(" --> ") == 4 and "storyboard#xywh=480,0,160,120" in vtt
    with Image.open(rt.blobs.root / made["storyboard"].path) as sheet:
        assert sheet.size == (640, 120)
        first_tile = np.asarray(sheet.convert("L"))[:, :160]
        assert first_tile.mean() < 10  # the black opening is on the storyboard, not the poster


def loudness_of(path: Path) -> float:
    binary = ffmpeg_binary()
    assert binary is not None
    job = process.Run(
        args=commands.loudness_command(binary, path, demuxer="mov", audio_index=1),
        time_limit_s=60,
        stderr_lines=40,
    )
    process.run(job)
    measured = parse_ebur128_summary(job.stderr)
    assert measured is not None
    return measured.integrated_lufs


# ffmpeg's sine has an amplitude of 1/8: 0.05 makes it very quiet, 4.0 loud.
@pytest.mark.parametrize("volume", [0.05, 4.0])
def test_web_audio_is_normalised_to_ebu_r128(rt: Runtime, clip_dir: Path, volume: float) -> None:
    clip = Clip(f"tone-{volume}", seconds=3.0, size="160x120", tone_volume=volume, audio=AAC)
    source = clips.render(clip, clip_dir)
    before = loudness_of(source)
    asset_id = clips.store(rt, source)
    after = loudness_of(rt.blobs.root / clips.renditions(rt, asset_id)["web_720"].path)
    assert abs(before - -23.0) > 5  # the source is clearly off target ...
    assert after == pytest.approx(-23.0, abs=1.0)  # ... the web version is on it
    assert clips.asset(rt, asset_id).meta["loudness"]["integrated_lufs"] == pytest.approx(
        before, abs=0.5
    )


def test_silence_is_not_amplified(rt: Runtime, clip_dir: Path) -> None:
    clip = Clip("silence", seconds=2.0, size="160x120", tone_volume=0.0)
    asset_id = clips.store(rt, clips.render(clip, clip_dir))
    assert clips.asset(rt, asset_id).status == AssetStatus.ready
    assert loudness_of(rt.blobs.root / clips.renditions(rt, asset_id)["web_720"].path) < -60


def test_capture_metadata_is_read_and_stripped_from_web_versions(
    rt: Runtime, clip_dir: Path
) -> None:
    clip = Clip(
        "iphone", "mov", audio=None,
        extra=("-movflags", "use_metadata_tags",
               "-metadata", "com.apple.quicktime.make=Apple",
               "-metadata", "com.apple.quicktime.model=iPhone 15",
               "-metadata", "com.apple.quicktime.location.ISO6709=+51.0543+003.7174+010.000/",
               "-metadata", "com.apple.quicktime.creationdate=2024-05-01T12:00:00+0200"),
    )  # fmt: skip
    asset_id = clips.store(rt, clips.render(clip, clip_dir))
    row = clips.asset(rt, asset_id)
    assert row.meta["camera"] == "Apple iPhone 15"
    assert row.meta["gps"] == {"lat": 51.0543, "lon": 3.7174, "alt": 10.0}
    assert row.taken_at is not None and row.taken_at.isoformat() == "2024-05-01T10:00:00+00:00"
    assert row.taken_at_offset_min == 120
    web = rt.blobs.root / clips.renditions(rt, asset_id)["web_720"].path
    assert probe_file(web).tags.location is None  # no GPS in what gets published
    assert b"51.0543" not in web.read_bytes()


def test_doctor_reports_the_video_toolchain(rt: Runtime) -> None:
    from ingest.video.toolbox import check_video, filters

    findings = {f.name: f for f in check_video(rt)}
    assert findings["video probe"].state == "ok" and "PyAV" in findings["video probe"].detail
    assert findings["video encoders, decoders, demuxers and filters"].state == "ok"
    assert (
        findings["video ffmpeg"].state == "ok" and "at least 5.1" in findings["video ffmpeg"].detail
    )
    binary = ffmpeg_binary()
    assert binary is not None
    assert {"loudnorm", "ebur128", "scale", "bwdif"} <= filters(binary)
    assert "libx264" not in filters(binary)  # encoders are not filters
