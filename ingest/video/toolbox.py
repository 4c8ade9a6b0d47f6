"""What the chosen ffmpeg and PyAV can do, for the pipeline and for `dam doctor`."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterable

from dam.doctor import Finding
from dam.runtime import Runtime
from ingest.ffmpeg import MIN_VERSION, NEEDS, OPTIONAL_FILTERS, choose, inspect

log = logging.getLogger(__name__)


def announce_ffmpeg(_rt: Runtime) -> None:
    """At start: choose the ffmpeg (a notice is logged when PATH's is passed over)."""
    choice = choose()
    if choice.binary is None:
        log.warning("no ffmpeg found: videos cannot be converted")
    else:
        log.info("videos are converted with %s ffmpeg %s", choice.origin, choice.binary)


def filters(binary: str) -> frozenset[str]:
    """Names of the filters this ffmpeg build has."""
    return inspect(binary).filters


def can_tonemap(binary: str) -> bool:
    try:
        return all(name in filters(binary) for name in OPTIONAL_FILTERS)
    except (OSError, subprocess.SubprocessError):
        return False


def check_video(_rt: Runtime) -> Iterable[Finding]:
    """`dam doctor`: the video probe, which ffmpeg runs and why, and what it can do."""
    try:
        import av

        version = f"PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info})"
        yield Finding("video probe", "ok", version)
    except ImportError:
        yield Finding("video probe", "missing", "PyAV is not installed (pip install av)")
    choice = choose()
    if choice.binary is None:
        yield Finding("video ffmpeg", "missing", "videos cannot be converted")
        return
    if choice.notice:
        # PATH's ffmpeg was passed over (or nothing better was there): say why.
        yield Finding("video ffmpeg on PATH", "missing", choice.notice[:400])
    try:
        build = inspect(choice.binary)
    except (OSError, subprocess.SubprocessError) as exc:
        yield Finding("video ffmpeg", "error", f"{exc}"[:200])
        return
    minimum = f"{MIN_VERSION[0]}.{MIN_VERSION[1]}"
    yield Finding(
        "video ffmpeg",
        "ok",
        f"{choice.origin}: {choice.binary} ({build.version_line}; at least {minimum} needed)",
    )
    problems = build.shortcomings()
    yield Finding(
        "video encoders, decoders, demuxers and filters",
        "missing" if problems else "ok",
        "; ".join(problems)
        if problems
        else f"{len(NEEDS.encoders)} encoders, {len(NEEDS.decoders)} decoders, "
        f"{len(NEEDS.demuxers)} demuxers, {len(NEEDS.filters)} filters",
    )
    tonemap = all(n in build.filters for n in OPTIONAL_FILTERS)
    yield Finding(
        "video HDR tone mapping",
        "ok" if tonemap else "missing",
        "zscale + tonemap" if tonemap else "no zscale: HDR clips lose their tone mapping",
    )
