"""probe(path) -> VideoInfo: the PyAV probe, run in a disposable child process.

PyAV (the `av` wheel) bundles its own FFmpeg libraries, so probing needs no ffprobe
binary. Parsing a hostile file happens in the child, under a memory cap, a CPU cap and a
wall-clock timeout; a crash or a hang there costs that child, never the worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dam.errors import ProcessingError
from ingest.video import launch, limits
from ingest.video.formats import demuxer_for
from ingest.video.info import VideoInfo, video_info
from ingest.video.mp4box import top_level_boxes

CHILD = Path(__file__).with_name("probe_child.py")


def probe(path: Path, *, label: str) -> VideoInfo:
    """What the video at `path` (sniffed as `label`) holds; ProcessingError when it is not
    a video Beeldbank can process."""
    demuxer = demuxer_for(label)
    raw = probe_raw(path, demuxer=demuxer)
    if raw.get("error") and demuxer == "mov" and "moov" not in top_level_kinds(path):
        # The most common broken camera file: recording stopped before the index was written.
        raw["detail"] = "moov atom not found"
    return video_info(raw, label=label)


def top_level_kinds(path: Path) -> list[str]:
    try:
        return [kind for kind, _ in top_level_boxes(path)]
    except OSError:
        return []


def probe_raw(path: Path, *, demuxer: str) -> dict[str, object]:
    """The child's plain facts about `path`, read with `demuxer` only."""
    # Capped in memory and CPU time, at a lower priority, and dying with this process.
    command = launch.command(
        [sys.executable, "-I", str(CHILD), demuxer, str(limits.MAX_PIXELS), str(path.resolve())],
        memory=limits.PROBE_MEMORY_BYTES,
        niceness=10,
        cpu_s=int(limits.PROBE_TIMEOUT_S),
    )
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=limits.PROBE_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ProcessingError(
            "Reading the video took too long; the file is probably damaged or crafted."
        ) from None
    if done.returncode != 0 or not done.stdout:
        # A crash (signal), the memory cap or a missing PyAV: the file cannot be trusted.
        raise ProcessingError(
            "The video could not be read: reading it stopped with an error, so the file is "
            "probably damaged. The original is kept."
        )
    try:
        facts = json.loads(done.stdout)
    except ValueError:
        facts = None
    if not isinstance(facts, dict):
        raise ProcessingError("The video could not be read; the file is probably damaged.")
    return facts
