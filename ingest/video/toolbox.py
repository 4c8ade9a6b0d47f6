"""What the installed ffmpeg and PyAV can do, for the pipeline and for `dam doctor`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from functools import lru_cache

from dam.doctor import Finding
from dam.runtime import Runtime
from ingest.ffmpeg import encoders, ffmpeg_binary

NEEDED_ENCODERS = ("libx264", "aac")
NEEDED_FILTERS = ("scale", "loudnorm", "ebur128", "bwdif", "fps")
# HDR to SDR needs zimg; without it HDR footage is converted without tone mapping.
TONEMAP_FILTERS = ("zscale", "tonemap")


@lru_cache(maxsize=4)
def filters(binary: str) -> frozenset[str]:
    """Names of the filters this ffmpeg build has."""
    out = subprocess.run(
        [binary, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "->" in parts[2]:
            names.add(parts[1])
    return frozenset(names)


def can_tonemap(binary: str) -> bool:
    try:
        return all(name in filters(binary) for name in TONEMAP_FILTERS)
    except (OSError, subprocess.SubprocessError):
        return False


def check_video(_rt: Runtime) -> Iterable[Finding]:
    """`dam doctor`: the video pipeline's encoders, filters and probe."""
    try:
        import av

        version = f"PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info})"
        yield Finding("video probe", "ok", version)
    except ImportError:
        yield Finding("video probe", "missing", "PyAV is not installed (pip install av)")
    binary = ffmpeg_binary()
    if binary is None:
        yield Finding("video ffmpeg", "missing", "videos cannot be converted")
        return
    try:
        have_encoders, have_filters = encoders(binary), filters(binary)
    except (OSError, subprocess.SubprocessError) as exc:
        yield Finding("video ffmpeg", "error", f"{exc}"[:200])
        return
    missing = [n for n in NEEDED_ENCODERS if n not in have_encoders]
    missing += [n for n in NEEDED_FILTERS if n not in have_filters]
    yield Finding(
        "video encoders and filters",
        "missing" if missing else "ok",
        f"missing: {', '.join(missing)}" if missing else ", ".join(NEEDED_ENCODERS),
    )
    tonemap = all(n in have_filters for n in TONEMAP_FILTERS)
    yield Finding(
        "video HDR tone mapping",
        "ok" if tonemap else "missing",
        "zscale + tonemap" if tonemap else "no zscale: HDR clips lose their tone mapping",
    )
