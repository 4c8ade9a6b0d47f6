"""probe(path) -> VideoInfo: the PyAV probe, run in a disposable child process.

PyAV (the `av` wheel) bundles its own FFmpeg libraries, so probing needs no ffprobe
binary. Parsing a hostile file happens in the child, under a memory cap, a CPU cap and a
wall-clock timeout; a crash or a hang there costs that child, never the worker.
"""

from __future__ import annotations

from pathlib import Path

from dam.errors import ProcessingError
from ingest import child_process
from ingest.video import limits
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
    try:
        return child_process.run_json(
            CHILD,
            [demuxer, str(limits.MAX_PIXELS), str(path.resolve())],
            memory=limits.PROBE_MEMORY_BYTES,
            timeout_s=limits.PROBE_TIMEOUT_S,
            niceness=10,
        )
    except child_process.ChildTimedOut:
        raise ProcessingError(
            "Reading the video took too long; the file is probably damaged or crafted."
        ) from None
    except child_process.ChildFailed:
        # A crash (signal), the memory cap or a missing PyAV: the file cannot be trusted.
        raise ProcessingError(
            "The video could not be read: reading it stopped with an error, so the file is "
            "probably damaged. The original is kept."
        ) from None
