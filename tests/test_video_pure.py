"""Pure parts of the video pipeline, table-driven: geometry, tags, frame rate, progress,
the rendition ladder, loudness, storyboard and the ffmpeg command lines."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dam.errors import ProcessingError
from ingest.video import commands
from ingest.video.display import Orientation, display_size, even_fit, orientation_from_matrix
from ingest.video.framerate import frame_rate
from ingest.video.info import VideoInfo, video_info
from ingest.video.iso6709 import Location, parse_iso6709
from ingest.video.ladder import keyframe_interval, output_fps, web_renditions
from ingest.video.loudness import Loudness, loudnorm_options, parse_ebur128_summary
from ingest.video.progress import ProgressParser, fraction
from ingest.video.storyboard import choose_poster, plan_storyboard, storyboard_vtt
from ingest.video.tags import parse_time, read_tags
from tests.corpus import message_problem

CEST = timezone(timedelta(hours=2))
ONE = 65536  # 1.0 in the display matrix's 16.16 fixed point


def matrix(a: int, b: int, c: int, d: int) -> list[int]:
    return [a * ONE, b * ONE, 0, c * ONE, d * ONE, 0, 0, 0, 1 << 30]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, Orientation(0, False)),
        (matrix(1, 0, 0, 1), Orientation(0, False)),
        (matrix(0, -1, 1, 0), Orientation(90, False)),  # what -display_rotation 90 writes
        (matrix(-1, 0, 0, -1), Orientation(180, False)),
        (matrix(0, 1, -1, 0), Orientation(270, False)),
        (matrix(-1, 0, 0, 1), Orientation(0, True)),  # a mirrored selfie
        ([0] * 9, Orientation(0, False)),  # degenerate: ignored
        ([1, 2, 3], Orientation(0, False)),
    ],
)
def test_display_matrix_gives_the_quarter_turn(
    given: list[int] | None, expected: Orientation
) -> None:
    assert orientation_from_matrix(given) == expected


@pytest.mark.parametrize(
    ("size", "sar", "rotation", "expected"),
    [
        ((1920, 1080), Fraction(1), 0, (1920, 1080)),
        ((1920, 1080), Fraction(1), 90, (1080, 1920)),
        ((1920, 1080), Fraction(1), 270, (1080, 1920)),
        ((1440, 1080), Fraction(4, 3), 0, (1920, 1080)),  # HDV anamorphic
        ((720, 576), Fraction(16, 15), 0, (768, 576)),  # PAL 4:3
        ((1440, 1080), Fraction(4, 3), 90, (1080, 1920)),  # stretched, then turned
    ],
)
def test_display_size_applies_pixel_shape_then_rotation(
    size: tuple[int, int], sar: Fraction, rotation: int, expected: tuple[int, int]
) -> None:
    assert display_size(*size, sar, Orientation(rotation, False)) == expected


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((1920, 1080), (1280, 720), (1280, 720)),
        ((1080, 1920), (1280, 720), (720, 1280)),  # portrait fits the turned box
        ((1919, 1079), (1280, 720), (1280, 718)),
        ((1919, 1079), (1920, 1080), (1918, 1078)),  # even, never upscaled
        ((321, 241), (1280, 720), (320, 240)),
        ((3840, 1600), (1920, 1080), (1920, 800)),  # scope: the long edge decides
        ((1, 1), (1280, 720), (2, 2)),
    ],
)
def test_even_fit(size: tuple[int, int], box: tuple[int, int], expected: tuple[int, int]) -> None:
    assert even_fit(*size, *box) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+50.8466+004.3528+012.000/", Location(50.8466, 4.3528, 12.0)),
        ("+50.8466+004.3528/", Location(50.8466, 4.3528)),
        ("-33.8688+151.2093/", Location(-33.8688, 151.2093)),
        ("+5050.796+00420.168/", Location(50.846600, 4.336133)),  # degrees and minutes
        ("+505047.8+0042010.1/", Location(50.846611, 4.336139)),  # ... and seconds
        ("+50.8466+004.3528+012.000CRSWGS_84/", Location(50.8466, 4.3528, 12.0)),
        ("+00.0000+000.0000/", None),  # no fix
        ("+95.0000+004.0000/", None),
        ("+50.8466", None),
        ("nonsense", None),
        ("", None),
        (None, None),
    ],
)
def test_iso6709(text: str | None, expected: Location | None) -> None:
    assert parse_iso6709(text) == expected


def test_capture_tags_from_apple_and_android_keys() -> None:
    apple = read_tags(
        {
            "com.apple.quicktime.make": "Apple",
            "com.apple.quicktime.model": "iPhone 15 Pro",
            "com.apple.quicktime.location.ISO6709": "+51.0543+003.7174+010.000/",
            "com.apple.quicktime.creationdate": "2024-05-01T12:00:00+0200",
            "creation_time": "2024-05-01T10:00:01.000000Z",
        }
    )
    assert apple.camera == "Apple iPhone 15 Pro"
    assert apple.location == Location(51.0543, 3.7174, 10.0)
    assert apple.taken is not None and apple.taken.offset_min == 120
    assert apple.taken.at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    android = read_tags({"location": "+50.8466+004.3528/", "creation_time": "2023-01-02T03:04:05Z"})
    assert android.location == Location(50.8466, 4.3528)
    assert android.taken is not None and android.taken.offset_min is None
    assert read_tags({"make": "Canon", "model": "Canon EOS R6"}).camera == "Canon EOS R6"


@pytest.mark.parametrize(
    ("text", "at", "offset"),
    [
        ("2024-05-01T12:00:00+0200", datetime(2024, 5, 1, 12, tzinfo=CEST), 120),
        ("2024-05-01T10:00:00.000000Z", datetime(2024, 5, 1, 10, tzinfo=UTC), None),
        ("1904-01-01T00:00:00Z", None, None),  # a camera without a set clock
        ("1970-01-01T00:00:00Z", None, None),
        ("2024-05-01 10:00:00", None, None),  # no zone: a person decides
        ("yesterday", None, None),
    ],
)  # fmt: skip
def test_creation_times(text: str, at: datetime | None, offset: int | None) -> None:
    parsed = parse_time(text)
    if at is None:
        assert parsed is None
    else:
        assert parsed is not None and parsed.at == at and parsed.offset_min == offset


def stamps(*runs: tuple[int, float]) -> list[float]:
    """Presentation times for runs of (frames, fps)."""
    times, t = [], 0.0
    for count, fps in runs:
        for _ in range(count):
            times.append(round(t, 6))
            t += 1 / fps
    return times


@pytest.mark.parametrize(
    ("times", "fps", "variable"),
    [
        (stamps((90, 30)), 30.0, False),
        ([round(i / 30, 3) for i in range(100)], 30.0, False),  # WebM: milliseconds
        (stamps((30, 30), (30, 15), (30, 30)), None, True),
        # One dropped frame is not variable frame rate (the average shows the gap).
        (stamps((60, 30))[:30] + [t + 0.0334 for t in stamps((60, 30))[30:]], 29.5, False),
        ([0.0, 0.04], 25.0, False),  # too few: the declared rate
    ],
)
def test_frame_rate_and_variable_frame_rate(
    times: list[float], fps: float | None, variable: bool
) -> None:
    judged = frame_rate(times, declared=25.0)
    assert judged.variable is variable
    if fps is not None:
        assert judged.fps == pytest.approx(fps, abs=0.05)
    else:
        assert judged.min_fps == pytest.approx(15, abs=0.1)
        assert judged.max_fps == pytest.approx(30, abs=0.1)


def test_progress_blocks() -> None:
    parser = ProgressParser()
    lines = [
        "frame=10", "out_time_us=333333", "out_time_ms=333333", "out_time=00:00:00.333333",
        "progress=continue", "out_time_us=N/A", "progress=continue",
        "out_time=00:01:02.500000", "progress=end",
    ]  # fmt: skip
    reported = [s for line in lines if (s := parser.feed(line)) is not None]
    assert reported == [pytest.approx(0.333333), pytest.approx(62.5)]
    assert parser.finished
    assert fraction(30, 60) == 0.5 and fraction(90, 60) == 1.0 and fraction(None, 60) is None


def raw_facts(**video: Any) -> dict[str, Any]:
    """A probe child's output for a plain 1280x720 H.264 clip with stereo AAC."""
    facts: dict[str, Any] = {
        "format": "mov",
        "duration_s": 10.0,
        "bit_rate": 2_000_000,
        "tags": {},
        "streams": [
            {
                "index": 0, "type": "video", "codec": "h264", "tags": {}, "width": 1280,
                "height": 720, "sar": [1, 1], "pix_fmt": "yuv420p", "profile": "High",
                "rate": [30, 1], "field_order": 1, "color_trc": 1, "attached_pic": False,
            },
            {"index": 1, "type": "audio", "codec": "aac", "channels": 2, "sample_rate": 48000},
        ],
        "scan": {
            "packets": 300,
            "pts": stamps((300, 30)),
            "first_frame": {"width": 1280, "height": 720, "pix_fmt": "yuv420p"},
        },
    }  # fmt: skip
    facts["streams"][0].update(video)
    return facts


def info(**video: Any) -> VideoInfo:
    return video_info(raw_facts(**video), label="MP4")


def test_video_info_reads_a_plain_clip() -> None:
    clip = info()
    assert (clip.display_width, clip.display_height, clip.duration_s) == (1280, 720, 10.0)
    assert clip.fps == 30.0 and not clip.variable_frame_rate
    assert clip.audio is not None and (clip.audio.index, clip.audio.channels) == (1, 2)
    assert clip.bit_depth == 8 and clip.hdr is None and not clip.interlaced


def test_video_info_reads_rotation_depth_hdr_and_interlacing() -> None:
    facts = raw_facts(pix_fmt="yuv420p10le", color_trc=18, field_order=2)
    facts["scan"]["first_frame"].update(display_matrix=matrix(0, -1, 1, 0), pix_fmt="yuv420p10le")
    clip = video_info(facts, label="QuickTime MOV")
    assert (clip.display_width, clip.display_height, clip.rotation) == (720, 1280, 90)
    assert (clip.bit_depth, clip.hdr, clip.interlaced) == (10, "hlg", True)


def _without_audio(facts: dict[str, Any]) -> dict[str, Any]:
    facts["streams"] = facts["streams"][:1]
    return facts


def _audio_only(facts: dict[str, Any]) -> dict[str, Any]:
    facts["streams"] = facts["streams"][1:]
    return facts


def _set(path: str, value: Any) -> Any:
    def change(facts: dict[str, Any]) -> dict[str, Any]:
        target: Any = facts
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
        return facts

    return change


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (_audio_only, "only sound"),
        (_set("streams.0.attached_pic", True), "only sound"),  # cover art is no video
        (_set("streams.0.codec", "cinepak"), "CINEPAK"),
        (_set("streams.0.width", 15360), "8K"),
        (_set("streams.0.height", 0), "damaged"),
        (_set("scan.packets", 0), "0 frames"),
        (_set("scan.first_frame", None), "could be decoded"),
        (_set("duration_s", 86400.0 * 400), "to last 1 year."),  # its plural form
        (_set("duration_s", 86400.0 * 3), "to last 3 days."),
        (_set("error", "open"), "could not be read"),
    ],
)
def test_video_info_refuses_with_a_clear_message(change: Any, says: str) -> None:
    facts = change(copy.deepcopy(raw_facts()))
    with pytest.raises(ProcessingError) as refused:
        video_info(facts, label="MP4")
    assert says in refused.value.message
    assert message_problem(refused.value.message) is None


def test_an_interrupted_recording_is_explained() -> None:
    with pytest.raises(ProcessingError, match="moov atom"):
        video_info({"error": "open", "detail": "moov atom not found"}, label="MP4")


def test_audio_is_optional_and_unknown_audio_is_left_out() -> None:
    assert video_info(_without_audio(raw_facts()), label="MP4").audio is None
    facts = raw_facts()
    facts["streams"][1]["codec"] = "qdmc"
    assert video_info(facts, label="MP4").audio is None


@pytest.mark.parametrize(
    ("size", "fps", "expected"),
    [
        ((320, 240), 30.0, [("web_720", 320, 240, 4000)]),
        ((1920, 1080), 30.0, [("web_1080", 1920, 1080, 8000), ("web_720", 1280, 720, 4000)]),
        ((1919, 1079), 30.0, [("web_720", 1280, 718, 4000)]),
        ((3840, 2160), 60.0, [("web_1080", 1920, 1080, 12000), ("web_720", 1280, 720, 6000)]),
    ],
)
def test_rendition_ladder(
    size: tuple[int, int], fps: float, expected: list[tuple[str, int, int, int]]
) -> None:
    clip = info(width=size[0], height=size[1])
    clip = VideoInfo(
        **{**clip.__dict__, "display_width": size[0], "display_height": size[1], "fps": fps}
    )
    got = [(r.name, r.width, r.height, r.maxrate_kbps) for r in web_renditions(clip)]
    assert got == expected


def test_portrait_phone_clip_gets_both_portrait_renditions() -> None:
    facts = raw_facts(width=1920, height=1080)
    facts["scan"]["first_frame"]["display_matrix"] = matrix(0, 1, -1, 0)
    got = [(r.name, r.width, r.height) for r in web_renditions(video_info(facts, label="MP4"))]
    assert got == [("web_1080", 1080, 1920), ("web_720", 720, 1280)]


@pytest.mark.parametrize(
    ("fps", "out", "gop"),
    [(25.0, 25.0, 50), (29.97, 29.97, 60), (60.0, 60.0, 120), (120.0, 60.0, 120),
     (240.0, 60.0, 120), (100.0, 50.0, 100), (None, None, 60)],
)  # fmt: skip
def test_output_frame_rate(fps: float | None, out: float | None, gop: int) -> None:
    assert output_fps(fps) == out
    assert keyframe_interval(fps) == gop


SUMMARY = """
[Parsed_ebur128_0 @ 0x5555] Summary:

  Integrated loudness:
    I:         -31.2 LUFS
    Threshold: -41.5 LUFS

  Loudness range:
    LRA:         3.4 LU
    Threshold: -51.3 LUFS
    LRA low:   -33.0 LUFS
    LRA high:  -29.6 LUFS

  True peak:
    Peak:      -12.1 dBFS
"""


def test_loudness_summary_and_linear_normalisation() -> None:
    measured = parse_ebur128_summary("noise before\n" + SUMMARY)
    assert measured == Loudness(-31.2, -41.5, 3.4, -12.1)
    options = loudnorm_options(measured)
    assert options["I"] == "-23" and options["TP"] == "-1" and options["linear"] == "true"
    assert options["measured_I"] == "-31.20" and options["measured_thresh"] == "-41.50"
    assert not measured.silent
    silence = parse_ebur128_summary(SUMMARY.replace("-31.2", "-70.0").replace("-12.1", "-inf"))
    assert silence is not None and silence.silent and silence.true_peak_dbtp == -99.0
    assert parse_ebur128_summary("no summary here") is None


@pytest.mark.parametrize(
    ("duration", "size", "interval", "count", "tile"),
    [
        (60.0, (1280, 720), 1.0, 60, (160, 90)),
        (3600.0, (1280, 720), 20.0, 180, (160, 90)),
        (0.4, (1280, 720), 1.0, 1, (160, 90)),
        (7200.0, (720, 1280), 60.0, 120, (90, 160)),
        (86400.0, (1280, 720), 600.0, 144, (160, 90)),
    ],
)
def test_storyboard_plan(
    duration: float, size: tuple[int, int], interval: float, count: int, tile: tuple[int, int]
) -> None:
    plan = plan_storyboard(duration, *size)
    assert (plan.interval_s, plan.count, (plan.tile_width, plan.tile_height)) == (
        interval,
        count,
        tile,
    )
    assert plan.count <= 200 and plan.count * plan.interval_s >= duration


def test_storyboard_vtt_points_at_each_tile() -> None:
    plan = plan_storyboard(12.5, 1280, 720)
    text = storyboard_vtt(plan, 12.5, "storyboard")
    assert text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nstoryboard#xywh=0,0,160,90")
    assert "00:00:10.000 --> 00:00:11.000\nstoryboard#xywh=0,90,160,90" in text
    assert text.rstrip().endswith("00:00:12.000 --> 00:00:12.500\nstoryboard#xywh=320,90,160,90")


def tile(value: int, *, noise: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.full((90, 160, 3), value, np.int16) + rng.integers(-noise, noise + 1, (90, 160, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def test_poster_skips_black_and_blank_frames_and_outliers() -> None:
    black, blank = tile(5, noise=2), tile(128, noise=0)
    assert choose_poster([black, black, tile(120), black]) == 2
    assert choose_poster([blank, tile(110, seed=1)]) == 1
    # Three frames of the scene and one bright flash: the scene is representative.
    frames = [tile(100, seed=1), tile(105, seed=2), tile(230, noise=10), tile(98, seed=3)]
    assert choose_poster(frames) in (0, 1, 3)
    assert choose_poster([black, tile(12, noise=2), black]) == 1  # all dark: the brightest


SOURCE = Path("/data/originals/ab/cd/abcd")


def web_command(**changes: Any) -> list[str]:
    clip = info()
    clip = VideoInfo(**{**clip.__dict__, **changes})
    outputs = [
        commands.WebOutput(spec, Path(f"/data/tmp/x/{spec.name}.mp4"))
        for spec in web_renditions(clip)
    ]
    return commands.web_renditions_command(
        "ffmpeg",
        SOURCE,
        demuxer="mov",
        info=clip,
        outputs=outputs,
        loudness=Loudness(-31.2, -41.5, 3.4, -12.1),
    )


def option(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == name]


def test_web_command_is_hardened_and_streamable() -> None:
    args = web_command()
    before_input = args[: args.index("-i")]
    assert option(before_input, "-f") == ["mov"]
    assert option(before_input, "-format_whitelist") == ["mov"]
    assert option(before_input, "-protocol_whitelist") == ["file,pipe"]
    assert option(before_input, "-enable_drefs") == ["0"]
    assert option(args, "-i") == [f"file:{SOURCE}"]
    assert option(args, "-c:v") == ["libx264"] and option(args, "-profile:v") == ["high"]
    assert option(args, "-movflags") == ["+faststart"] and option(args, "-map_metadata") == ["-1"]
    assert option(args, "-crf") == ["23"] and option(args, "-maxrate") == ["4000k"]
    assert option(args, "-c:a") == ["aac"] and option(args, "-ar") == ["48000"]
    assert option(args, "-t") == ["12.500"]
    graph = option(args, "-filter_complex")[0]
    assert "scale=1280:720" in graph and "setsar=1" in graph and "format=yuv420p" in graph
    assert "loudnorm=" in graph and "measured_I=-31.20" in graph and "linear=true" in graph
    assert "http" not in " ".join(args) and option(args, "-progress") == ["pipe:PROGRESS"]


def test_web_command_variants() -> None:
    assert "bwdif" not in option(web_command(), "-filter_complex")[0]
    assert "bwdif=" in option(web_command(interlaced=True), "-filter_complex")[0]
    assert "fps=fps=60" in option(web_command(fps=120.0), "-filter_complex")[0]
    assert "tonemap=" in option(web_command(hdr="pq"), "-filter_complex")[0]
    silent = web_command(audio=None)
    assert "-c:a" not in silent and "loudnorm" not in option(silent, "-filter_complex")[0]
    both = web_command(display_width=1920, display_height=1080)
    assert len(option(both, "-c:v")) == 2 and "split=2" in option(both, "-filter_complex")[0]
    assert [a for a in both if a.startswith("file:/data/tmp")] == [
        "file:/data/tmp/x/web_1080.mp4",
        "file:/data/tmp/x/web_720.mp4",
    ]


def test_frame_and_caption_commands_read_only_through_the_allowed_demuxer() -> None:
    frames = commands.frames_command("ffmpeg", SOURCE, every_s=2, width=160, height=90)
    assert option(frames, "-f") == ["mov", "rawvideo"] and option(frames, "-i") == [
        f"file:{SOURCE}"
    ]
    assert "fps=fps=1/2:round=near" in option(frames, "-filter_complex")[0]
    captioned = commands.captioned_command(
        "ffmpeg", SOURCE, [("nl", Path("/t/nl.vtt"))], Path("/t/out.mp4")
    )
    assert option(captioned, "-format_whitelist") == ["mov", "webvtt"]
    assert option(captioned, "-c:v") == ["copy"] and option(captioned, "-c:s") == ["mov_text"]
    assert option(captioned, "-metadata:s:s:0") == ["language=nl"]
