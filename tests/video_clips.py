"""Video test clips, generated with ffmpeg's lavfi sources (testsrc2, sine).

Clips are small and short so the whole matrix stays within the CI budget; each is made
once per test session and cached by its recipe.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ingest.ffmpeg import ffmpeg_binary


@dataclass(frozen=True)
class Clip:
    """A recipe: lavfi sources in, one file out."""

    name: str
    extension: str = "mp4"
    size: str = "320x240"
    rate: str = "30"
    seconds: float = 1.0
    video: tuple[str, ...] = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
    audio: tuple[str, ...] | None = ("-c:a", "aac", "-b:a", "64k")
    tone_hz: int = 440
    tone_volume: str = "0.1"
    video_filter: str | None = None
    extra: tuple[str, ...] = ()
    # Applied in a second, stream-copy pass (e.g. -display_rotation is an input option).
    remux_input: tuple[str, ...] = ()
    remux_output: tuple[str, ...] = field(default=())

    def key(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


def ffmpeg() -> str:
    binary = ffmpeg_binary()
    assert binary is not None, "ffmpeg is needed for the video tests"
    return binary


def render(clip: Clip, directory: Path) -> Path:
    """The clip's file in `directory`, made on first use."""
    target = directory / f"{clip.name}-{clip.key()}.{clip.extension}"
    if target.exists():
        return target
    command = [
        ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={clip.size}:rate={clip.rate}:duration={clip.seconds}",
    ]  # fmt: skip
    if clip.audio is not None:
        tone = f"sine=frequency={clip.tone_hz}:sample_rate=48000:duration={clip.seconds}"
        command += ["-f", "lavfi", "-i", f"{tone},volume={clip.tone_volume}"]
    command += ["-map", "0:v"]
    if clip.audio is not None:
        command += ["-map", "1:a", *clip.audio]
    if clip.video_filter:
        command += ["-vf", clip.video_filter]
    first = target.with_suffix(".first." + clip.extension) if clip.remux_input else target
    command += [*clip.video, *clip.extra, str(first)]
    run(command)
    if clip.remux_input or clip.remux_output:
        run(
            [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *clip.remux_input,
             "-i", str(first), "-c", "copy", *clip.remux_output, str(target)]
        )  # fmt: skip
        first.unlink()
    return target


def run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
