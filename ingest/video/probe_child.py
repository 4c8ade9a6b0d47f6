"""Runs in a child process: reads one video file with PyAV and prints plain facts as JSON.

The file is hostile until proven otherwise, so the demuxer is forced (never guessed from
the bytes), nested opens and network protocols are refused, and only this disposable
process, with its own memory and time limits, parses it. It imports nothing from
Beeldbank so that it starts fast; `ingest.video.info` turns its output into a VideoInfo.

Usage: python probe_child.py DEMUXER MAX_PIXELS PATH
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from typing import Any

import av

# An XMP packet (Premiere, Lightroom) is a few kB; a larger one is left out, not cut.
MAX_XMP_CHARS = 1024 * 1024
# Enough packets to judge the frame rate (ten seconds at 60 fps), few enough to be quick.
MAX_PACKETS = 600
MAX_SCAN_SECONDS = 30.0
MAX_STREAMS = 64


def main(argv: list[str]) -> int:
    demuxer, max_pixels, path = argv[1], int(argv[2]), argv[3]
    options = {"format_whitelist": demuxer, "protocol_whitelist": "file,pipe"}
    if demuxer == "mov":
        options["enable_drefs"] = "0"
        options["export_xmp"] = "1"  # an XMP box (uuid or XMP_) as the "xmp" tag
    try:
        container = av.open("file:" + path, format=demuxer, options=options)
    except av.FFmpegError as exc:
        return _emit({"error": "open", "detail": _detail(exc)})
    with container:
        facts = _container_facts(container)
        try:
            facts["scan"] = _scan(container, max_pixels)
        except av.FFmpegError as exc:
            facts["scan"] = {"error": "read", "detail": _detail(exc)}
    return _emit(facts)


def _container_facts(container: Any) -> dict[str, Any]:
    streams = []
    # A crafted file may declare thousands of tracks; a camera file has a handful.
    for stream in list(container.streams)[:MAX_STREAMS]:
        ctx = stream.codec_context
        item: dict[str, Any] = {
            "index": stream.index,
            "type": stream.type,
            # The codec, not the decoder PyAV picked for it (libdav1d decodes av1).
            "codec": _codec_name(ctx),
            "tags": _tags(stream.metadata),
            "frames": stream.frames or None,
            "duration_s": _seconds(stream.duration, stream.time_base),
            "attached_pic": bool(stream.disposition & av.stream.Disposition.attached_pic),
            "bit_rate": (ctx.bit_rate or None) if ctx is not None else None,
        }
        if stream.type == "video" and ctx is not None:
            sar = ctx.sample_aspect_ratio
            rate = stream.average_rate or stream.guessed_rate
            item.update(
                width=ctx.width,
                height=ctx.height,
                sar=[sar.numerator, sar.denominator] if sar else None,
                pix_fmt=ctx.pix_fmt,
                profile=ctx.profile,
                rate=[rate.numerator, rate.denominator] if rate else None,
                field_order=_safe(lambda c=ctx: int(c.field_order)),
                color_trc=_safe(lambda c=ctx: int(c.color_trc)),
            )
        elif stream.type == "audio" and ctx is not None:
            item.update(
                channels=_safe(lambda c=ctx: c.layout.nb_channels) or ctx.channels,
                sample_rate=ctx.sample_rate,
            )
        streams.append(item)
    metadata = dict(container.metadata)
    xmp = metadata.pop("xmp", None)
    return {
        "format": container.format.name,
        "duration_s": container.duration / 1_000_000 if container.duration else None,
        "bit_rate": container.bit_rate or None,
        "tags": _tags(metadata),
        "xmp": xmp if isinstance(xmp, str) and len(xmp) <= MAX_XMP_CHARS else None,
        "streams": streams,
    }


def _scan(container: Any, max_pixels: int) -> dict[str, Any]:
    """Packet times of the first video stream, and its first decoded picture."""
    videos = [
        s
        for s in container.streams.video
        if not (s.disposition & av.stream.Disposition.attached_pic)
    ]
    if not videos:
        return {"packets": 0, "pts": [], "first_frame": None}
    stream = videos[0]
    ctx = stream.codec_context
    decodable = ctx is not None and 0 < (ctx.width or 0) * (ctx.height or 0) <= max_pixels
    times: list[float] = []
    packets = 0
    first: dict[str, Any] | None = None
    decode_errors = 0
    complete = True  # whether the whole stream was read (so its packet times are its length)
    for packet in container.demux(stream):
        if packet.size == 0:
            continue  # the end-of-stream marker
        packets += 1
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is not None and packet.time_base:
            times.append(float(stamp * packet.time_base))
        if first is None and decodable and decode_errors < 50:
            try:
                frames = packet.decode()
            except av.FFmpegError:
                decode_errors += 1
                frames = []
            if frames:
                first = _frame_facts(frames[0])
        span = (max(times) - min(times)) if times else 0.0
        enough = packets >= MAX_PACKETS or span > MAX_SCAN_SECONDS
        # Keep reading for a first picture a little longer (a stream may open mid-GOP).
        if enough and (first is not None or not decodable or packets >= 4 * MAX_PACKETS):
            complete = False
            break
    if first is None and decodable and packets:
        try:
            for frame in ctx.decode(None):  # drain a decoder that holds frames back
                first = _frame_facts(frame)
                break
        except av.FFmpegError:
            pass
    return {
        "packets": packets,
        "pts": sorted(times)[:MAX_PACKETS],
        "first_frame": first,
        "complete": complete,
    }


def _frame_facts(frame: Any) -> dict[str, Any]:
    matrix = None
    for item in frame.side_data:
        # PyAV up to 18.1.0 yields the side data, 18.1.1 (a mapping) their types.
        side = item if hasattr(item, "type") else frame.side_data[item]
        if "DISPLAYMATRIX" in str(side.type):
            raw = bytes(side)
            if len(raw) == 36:
                matrix = [
                    int.from_bytes(raw[i : i + 4], "little", signed=True) for i in range(0, 36, 4)
                ]
    return {
        "width": frame.width,
        "height": frame.height,
        "pix_fmt": frame.format.name,
        "display_matrix": matrix,
        "interlaced": bool(getattr(frame, "interlaced_frame", False)),
    }


def _codec_name(ctx: Any) -> str | None:
    if ctx is None:
        return None
    return str(_safe(lambda: ctx.codec.canonical_name) or ctx.name)


def _tags(metadata: Any) -> dict[str, str]:
    # Tag values are the file's text: bounded, so a hostile file cannot flood the asset.
    return {str(k)[:100]: str(v)[:500] for k, v in list(dict(metadata).items())[:100]}


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or not time_base:
        return None
    return float(value * time_base)


def _safe(get: Any) -> Any:
    try:
        return get()
    except (AttributeError, ValueError, TypeError):
        return None


def _detail(exc: Exception) -> str:
    # ffmpeg's own words ("moov atom not found"), never file content.
    return str(getattr(exc, "strerror", None) or exc)[:200]


def _emit(facts: dict[str, Any]) -> int:
    sys.stdout.write(json.dumps(facts, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
