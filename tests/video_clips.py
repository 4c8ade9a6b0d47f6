"""Video test clips, generated with ffmpeg's lavfi sources (testsrc2, sine), and helpers
to put them through the pipeline.

Clips are small and short so the whole matrix stays within the CI budget; each is made
once per directory and cached by its recipe.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from dam.models import Asset, Rendition
from dam.runtime import Runtime
from ingest.ffmpeg import ffmpeg_binary
from ingest.receive import create_asset
from ingest.sniff import HEAD_BYTES, sniff

H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
AAC = ("-c:a", "aac", "-b:a", "64k")


@dataclass(frozen=True)
class Clip:
    """A recipe: a test pattern (and a tone) in, one file out."""

    name: str
    extension: str = "mp4"
    size: str = "320x240"
    rate: int = 30
    seconds: float = 1.0
    source_filters: str = ""  # appended to the test pattern's graph
    video: tuple[str, ...] = H264
    audio: tuple[str, ...] | None = AAC
    tone_volume: float = 0.1
    extra: tuple[str, ...] = ()
    # A second, stream-copy pass (-display_rotation, for one, is an input option).
    remux_input: tuple[str, ...] = ()
    remux_output: tuple[str, ...] = ()

    def key(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


def ffmpeg() -> str:
    """The ffmpeg that makes test clips: the imageio-ffmpeg build, a known recent one (the
    recipes use options such as -display_rotation, new in ffmpeg 6), else the pipeline's."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        binary = ffmpeg_binary()
    assert binary is not None, "ffmpeg is needed for the video tests"
    return binary


def render(clip: Clip, directory: Path) -> Path:
    """The clip's file in `directory`, made on first use."""
    target = directory / f"{clip.name}-{clip.key()}.{clip.extension}"
    if target.exists():
        return target
    pattern = f"testsrc2=size={clip.size}:rate={clip.rate}:duration={clip.seconds}"
    command = [
        ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", pattern + clip.source_filters,
    ]  # fmt: skip
    if clip.audio is not None:
        tone = f"sine=frequency=440:sample_rate=48000:duration={clip.seconds}"
        command += ["-f", "lavfi", "-i", f"{tone},volume={clip.tone_volume}"]
        command += ["-map", "0:v", "-map", "1:a", *clip.audio]
    remux = bool(clip.remux_input or clip.remux_output)
    first = target.with_suffix(f".first.{clip.extension}") if remux else target
    command += [*clip.video, *clip.extra, str(first)]
    run(command)
    if remux:
        run(
            [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *clip.remux_input,
             "-i", str(first), "-map", "0", "-c", "copy", *clip.remux_output, str(target)]
        )  # fmt: skip
        first.unlink()
    return target


def run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def store(rt: Runtime, path: Path, *, filename: str | None = None) -> str:
    """Store `path` as an asset the way an upload does; with the inline queue the whole
    pipeline has run when this returns. Returns the asset id."""
    stored = rt.blobs.put_file(path)
    with path.open("rb") as fh:
        sniffed = sniff(fh.read(HEAD_BYTES))
    with rt.session() as session:
        received = create_asset(
            session, stored=stored, sniffed=sniffed, filename=filename or path.name, owner=None
        )
    return received.asset.id


def asset(rt: Runtime, asset_id: str) -> Asset:
    with rt.session() as session:
        row = session.get(Asset, asset_id)
    assert row is not None
    return row


def renditions(rt: Runtime, asset_id: str) -> dict[str, Rendition]:
    with rt.session() as session:
        rows = session.exec(select(Rendition).where(Rendition.asset_id == asset_id))
        return {row.name: row for row in rows}


def leftovers(rt: Runtime) -> list[Path]:
    """Scratch files the video stages left in data/tmp."""
    return sorted(rt.blobs.tmp_dir.glob("video-*"))
