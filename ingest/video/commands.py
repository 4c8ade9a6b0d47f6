"""ffmpeg command lines as data (argument lists), built with ffmpeg-python.

Pure: nothing here runs ffmpeg, so every command is tested by reading it. Every input
is opened with the one demuxer its container allows and the file/pipe protocols only
(`ingest.video.formats.input_options`), by an absolute `file:` path Beeldbank chose;
no user-supplied text reaches an argument except as quoted filter values we format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from ingest.video import limits
from ingest.video.formats import input_options
from ingest.video.info import VideoInfo
from ingest.video.ladder import CRF, PRESET, WebRendition, keyframe_interval, output_fps
from ingest.video.loudness import Loudness, loudnorm_options
from ingest.video.process import PROGRESS_FD_PLACEHOLDER

# Our own renditions are MP4 files; they are read back through the same door.
RENDITION_DEMUXER = "mov"


def global_args(*, loglevel: str = "error") -> list[str]:
    return [
        "-hide_banner", "-nostdin", "-nostats", "-loglevel", loglevel,
        "-max_alloc", str(limits.FFMPEG_MAX_ALLOC_BYTES),
        "-progress", PROGRESS_FD_PLACEHOLDER,
    ]  # fmt: skip


def _input(path: Path, demuxer: str, **extra: object) -> ffmpeg.nodes.FilterableStream:
    return ffmpeg.input(f"file:{path.resolve()}", **input_options(demuxer), **extra)


def _compile(stream: ffmpeg.nodes.Stream, binary: str, *, loglevel: str = "error") -> list[str]:
    args: list[str] = stream.global_args(*global_args(loglevel=loglevel)).compile(
        cmd=binary, overwrite_output=True
    )
    return args


@dataclass(frozen=True)
class WebOutput:
    rendition: WebRendition
    path: Path


def web_renditions_command(
    binary: str,
    source: Path,
    *,
    demuxer: str,
    info: VideoInfo,
    outputs: list[WebOutput],
    loudness: Loudness | None,
    tonemap: bool = True,
) -> list[str]:
    """One decode, every web rendition: H.264 High 4:2:0 + AAC in MP4 with fast start."""
    source_in = _input(source, demuxer)
    video = source_in["v:0"]
    if info.interlaced:
        video = deinterlace(video)
    fps = output_fps(info.fps)
    if fps is not None and info.fps is not None and fps < info.fps:
        video = video.filter("fps", fps=f"{fps:g}")
    if info.hdr and tonemap:
        video = tonemapped(video)
    videos = [video] if len(outputs) == 1 else _split(video, "split", len(outputs))
    audios: list[ffmpeg.nodes.FilterableStream | None] = [None] * len(outputs)
    if info.audio is not None:
        audio = source_in[str(info.audio.index)]
        if loudness is not None and not loudness.silent:
            audio = audio.filter("loudnorm", **loudnorm_options(loudness))
        # loudnorm works at 192 kHz; the web versions carry 48 kHz.
        audio = audio.filter("aresample", 48000)
        audios = [audio] if len(outputs) == 1 else _split(audio, "asplit", len(outputs))
    streams = []
    for output, video_out, audio_out in zip(outputs, videos, audios, strict=True):
        spec = output.rendition
        scaled = (
            # Video range (16-235) whatever the source: Motion JPEG and some DV decode to
            # full range, which players show washed out or crushed.
            video_out.filter("scale", spec.width, spec.height, out_range="tv")
            .filter("setsar", 1)
            .filter("format", "yuv420p")
        )
        options: dict[str, object] = {
            "c:v": "libx264",
            "profile:v": "high",
            "preset": PRESET,
            "crf": CRF,
            "maxrate": f"{spec.maxrate_kbps}k",
            "bufsize": f"{spec.bufsize_kbps}k",
            "g": keyframe_interval(info.fps),
            "movflags": "+faststart",
            # A web version is for publishing: no GPS, camera or other source tags.
            "map_metadata": "-1",
            "map_chapters": "-1",
            # Never longer than the probed length (a file that lies about its length must
            # not keep the encoder busy for days).
            "t": f"{info.duration_s * 1.05 + 2:.3f}",
            "f": "mp4",
        }
        parts = [scaled]
        if audio_out is not None:
            parts.append(audio_out)
            options.update(
                {
                    "c:a": "aac",
                    "b:a": f"{spec.audio_kbps}k",
                    "ac": spec.audio_channels,
                    "ar": 48000,
                }
            )
        streams.append(ffmpeg.output(*parts, f"file:{output.path}", **options))
    merged = streams[0] if len(streams) == 1 else ffmpeg.merge_outputs(*streams)
    return _compile(merged, binary)


def loudness_command(binary: str, source: Path, *, demuxer: str, audio_index: int) -> list[str]:
    """Measure EBU R128 loudness of one audio stream (audio only: cheap)."""
    audio = _input(source, demuxer)[str(audio_index)].filter(
        "ebur128", peak="true", framelog="verbose"
    )
    # The summary is logged at info level; nothing else of the file is printed at it
    # once the banner is off, and the log is parsed, not kept. The per-frame lines go to
    # the verbose level, below what is printed ("quiet" is no framelog value before
    # ffmpeg 6, where the option took only "info" and "verbose").
    out = ffmpeg.output(audio, "-", f="null")
    return _compile(out, binary, loglevel="info")


def frames_command(
    binary: str, source: Path, *, every_s: float, width: int, height: int
) -> list[str]:
    """Frames every `every_s` seconds of one of our renditions, as raw RGB on stdout."""
    video = (
        _input(source, RENDITION_DEMUXER)["v:0"]
        .filter("fps", fps=f"1/{every_s:g}", round="near")
        .filter("scale", width, height)
        .filter("format", "rgb24")
    )
    out = ffmpeg.output(video, "pipe:1", f="rawvideo")
    return _compile(out, binary)


def still_command(binary: str, source: Path, *, at_s: float, width: int, height: int) -> list[str]:
    """One frame at `at_s` of one of our renditions, as raw RGB on stdout."""
    video = (
        _input(source, RENDITION_DEMUXER, ss=f"{max(0.0, at_s):.3f}")["v:0"]
        .filter("scale", width, height)
        .filter("format", "rgb24")
    )
    out = ffmpeg.output(video, "pipe:1", f="rawvideo", **{"frames:v": 1})
    return _compile(out, binary)


def captioned_command(
    binary: str, video: Path, captions: list[tuple[str, Path]], target: Path
) -> list[str]:
    """Our web rendition with WebVTT captions added as MP4 text tracks (no re-encode)."""
    main = _input(video, RENDITION_DEMUXER)
    inputs = [main["v:0"], main["a?"]]
    options: dict[str, object] = {"c:v": "copy", "c:a": "copy", "c:s": "mov_text"}
    for n, (language, path) in enumerate(captions):
        inputs.append(_input(path, "webvtt")["s:0"])
        options[f"metadata:s:s:{n}"] = f"language={language}"
    options.update({"movflags": "+faststart", "f": "mp4"})
    out = ffmpeg.output(*inputs, f"file:{target}", **options)
    return _compile(out, binary)


def _split(
    stream: ffmpeg.nodes.FilterableStream, name: str, count: int
) -> list[ffmpeg.nodes.FilterableStream]:
    node = stream.filter_multi_output(name, count)
    return [node.stream(i) for i in range(count)]


def deinterlace(video: ffmpeg.nodes.FilterableStream) -> ffmpeg.nodes.FilterableStream:
    """Interlaced fields to progressive frames, one frame per frame (bwdif)."""
    return video.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")


def tonemapped(video: ffmpeg.nodes.FilterableStream) -> ffmpeg.nodes.FilterableStream:
    """HDR (PQ or HLG) to SDR BT.709: linear light, then a filmic curve, then 8-bit."""
    return (
        video.filter("zscale", t="linear", npl=100)
        .filter("format", "gbrpf32le")
        .filter("zscale", p="bt709")
        .filter("tonemap", tonemap="hable", desat=0)
        .filter("zscale", t="bt709", m="bt709", r="tv")
    )
