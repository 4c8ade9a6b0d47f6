"""Which ffmpeg Beeldbank runs: the server's own (on PATH) when it qualifies, else the one
inside the imageio-ffmpeg wheel, with a notice that says why.

To qualify, a build must be at least MIN_VERSION and have every encoder, decoder, demuxer,
muxer and filter the pipeline's commands use (`NEEDS`). The check reads the build's own
lists (`ffmpeg -encoders`, `-codecs`, `-demuxers`, `-muxers`, `-filters`), once per process.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.video.formats import DEMUXERS, VIDEO_CODECS

log = logging.getLogger(__name__)

# Why 5.1: it is the oldest release the suite runs against (Debian 12's, in CI next to the
# bundled build), and what the commands need is there: `-progress pipe:N`, `-max_alloc`,
# the input `format_whitelist`/`protocol_whitelist`/`enable_drefs`, loudnorm's linear
# pass with measured values, ebur128's true peak, bwdif's `deint`, scale's `out_range`
# and fps's `round`. Older builds may work but are untested, so they do not qualify.
MIN_VERSION = (5, 1)


@dataclass(frozen=True)
class Needs:
    encoders: tuple[str, ...]
    decoders: tuple[str, ...]  # codec names, as the probe reports them
    demuxers: tuple[str, ...]
    muxers: tuple[str, ...]
    filters: tuple[str, ...]


NEEDS = Needs(
    # Web versions (H.264 + AAC), caption tracks (mov_text).
    encoders=("libx264", "aac", "mov_text"),
    # Every accepted picture codec, and the sound of ordinary files; a rarer sound codec
    # the build lacks only leaves that file's sound out (the asset says so).
    decoders=(*VIDEO_CODECS, "aac", "mp3", "mp2", "ac3", "pcm_s16le", "opus", "vorbis"),
    demuxers=(*sorted(set(DEMUXERS.values())), "webvtt"),
    muxers=("mp4", "null", "rawvideo"),
    filters=(
        "scale", "setsar", "format", "split", "asplit", "aresample", "loudnorm", "ebur128",
        "bwdif", "fps", "crop", "gblur", "overlay",
    ),
)  # fmt: skip
# HDR to SDR needs zimg; without it HDR footage is converted without tone mapping.
OPTIONAL_FILTERS = ("zscale", "tonemap")


@dataclass(frozen=True)
class Build:
    """What one ffmpeg binary is and can do."""

    binary: str
    version: tuple[int, int] | None  # None: a development snapshot without a number
    version_line: str
    encoders: frozenset[str] = field(repr=False)
    decoders: frozenset[str] = field(repr=False)
    demuxers: frozenset[str] = field(repr=False)
    muxers: frozenset[str] = field(repr=False)
    filters: frozenset[str] = field(repr=False)

    def shortcomings(self, needs: Needs = NEEDS) -> list[str]:
        """Why this build does not qualify; empty when it does."""
        problems = []
        if self.version is not None and self.version < MIN_VERSION:
            problems.append(
                f"version {self.version[0]}.{self.version[1]} is older than "
                f"{MIN_VERSION[0]}.{MIN_VERSION[1]}"
            )
        for kind, wanted, have in (
            ("encoders", needs.encoders, self.encoders),
            ("decoders", needs.decoders, self.decoders),
            ("demuxers", needs.demuxers, self.demuxers),
            ("muxers", needs.muxers, self.muxers),
            ("filters", needs.filters, self.filters),
        ):
            missing = [name for name in wanted if name not in have]
            if missing:
                problems.append(f"no {kind} {', '.join(missing)}")
        return problems


@lru_cache(maxsize=8)
def inspect(binary: str) -> Build:
    """Read a build's version and lists; OSError / SubprocessError when it does not run."""
    lines = _run(binary, "-version").splitlines()
    first = lines[0] if lines else ""
    return Build(
        binary=binary,
        version=parse_version(first),
        version_line=first[:120],
        encoders=_names(_run(binary, "-encoders"), flags=6, types="VAS"),
        decoders=_decodable(_run(binary, "-codecs")),
        demuxers=_formats(_run(binary, "-demuxers"), "D"),
        muxers=_formats(_run(binary, "-muxers"), "E"),
        filters=_filters(_run(binary, "-filters")),
    )


def parse_version(line: str) -> tuple[int, int] | None:
    """(major, minor) from `ffmpeg -version`'s first line: 'ffmpeg version 5.1.9-0+deb12u1',
    'ffmpeg version n9.0.2-17-g2a5...'; None for a snapshot ('N-112233-g...')."""
    match = re.search(r"version n?(\d+)\.(\d+)", line)
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class Choice:
    binary: str | None
    origin: str  # "PATH", "bundled" or "none"
    notice: str | None  # for the log and `dam doctor` when PATH's ffmpeg was passed over
    build: Build | None


@lru_cache(maxsize=1)
def choose() -> Choice:
    """The ffmpeg to run (once per process; the notice is logged then)."""
    choice = _choose(shutil.which("ffmpeg"), _bundled())
    if choice.notice:
        log.warning("%s", choice.notice)
    return choice


def ffmpeg_binary() -> str | None:
    return choose().binary


def _choose(on_path: str | None, bundled: str | None) -> Choice:
    problems: list[str] = []
    if on_path is not None:
        try:
            build = inspect(on_path)
            problems = build.shortcomings()
        except (OSError, subprocess.SubprocessError) as exc:
            build, problems = None, [f"it does not run ({exc})"[:200]]
        if not problems:
            return Choice(on_path, "PATH", None, build)
    if bundled is None:
        if on_path is None:
            return Choice(None, "none", "no ffmpeg: not on PATH, imageio-ffmpeg missing", None)
        # Better a build that lacks something than none: what it cannot do fails clearly.
        unfit = f"ffmpeg on PATH ({on_path}) does not qualify: {'; '.join(problems)}"
        return Choice(on_path, "PATH", unfit + "; no bundled ffmpeg to use instead", None)
    try:
        bundled_build: Build | None = inspect(bundled)
    except (OSError, subprocess.SubprocessError):
        bundled_build = None
    notice: str | None = None
    if on_path is not None:
        notice = (
            f"ffmpeg on PATH ({on_path}) does not qualify for Beeldbank: {'; '.join(problems)}. "
            "Using the ffmpeg bundled with imageio-ffmpeg instead."
        )
    return Choice(bundled, "bundled", notice, bundled_build)


def _bundled() -> str | None:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return None


def encoders(binary: str) -> set[str]:
    """Names of the encoders this ffmpeg build has."""
    return set(inspect(binary).encoders)


def _run(binary: str, option: str) -> str:
    return subprocess.run(
        [binary, "-hide_banner", option], capture_output=True, text=True, timeout=30, check=True
    ).stdout


def _names(out: str, *, flags: int, types: str) -> frozenset[str]:
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == flags and parts[0][0] in types:
            names.add(parts[1])
    return frozenset(names)


def _decodable(out: str) -> frozenset[str]:
    """Codec names with a decoder, from `-codecs` (' DEV.LS h264  H.264 ...')."""
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] == "D" and parts[0][2] in "VAS":
            names.add(parts[1])
    return frozenset(names)


def _formats(out: str, flag: str) -> frozenset[str]:
    """Demuxer or muxer names from `-demuxers`/`-muxers` (' D  mov,mp4,m4a  QuickTime')."""
    names: set[str] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and flag in parts[0] and set(parts[0]) <= set("DEd"):
            names.update(parts[1].split(","))
    return frozenset(names)


def _filters(out: str) -> frozenset[str]:
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "->" in parts[2]:
            names.add(parts[1])
    return frozenset(names)
