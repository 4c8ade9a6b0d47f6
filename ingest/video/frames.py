"""Pictures out of our own renditions: frames at an interval, or one still (for the
storyboard and poster here, and for face detection on videos)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ingest.video import commands, limits, process


@dataclass(frozen=True)
class Frame:
    time_s: float
    pixels: np.ndarray  # height x width x 3, RGB, uint8

    def image(self) -> Image.Image:
        return Image.fromarray(self.pixels, "RGB")


class _Collector:
    """Cuts raw RGB bytes from ffmpeg's stdout into frames, up to a limit."""

    def __init__(self, width: int, height: int, limit: int) -> None:
        self.size = width * height * 3
        self.shape = (height, width, 3)
        self.limit = limit
        self.buffer = bytearray()
        self.frames: list[np.ndarray] = []

    def __call__(self, chunk: bytes) -> None:
        self.buffer.extend(chunk)
        while len(self.buffer) >= self.size:
            if len(self.frames) < self.limit:
                raw = bytes(self.buffer[: self.size])
                self.frames.append(np.frombuffer(raw, np.uint8).reshape(self.shape))
            del self.buffer[: self.size]


def frames_every(
    binary: str,
    rendition: Path,
    *,
    every_s: float,
    width: int,
    height: int,
    duration_s: float,
    limit: int,
    tick: Callable[[float | None], None] = lambda _s: None,
) -> list[Frame]:
    """Frames at 0, every_s, 2*every_s, ... of a rendition, scaled to width x height."""
    collect = _Collector(width, height, limit)
    process.run(
        process.Run(
            args=commands.frames_command(
                binary, rendition, every_s=every_s, width=width, height=height
            ),
            time_limit_s=limits.time_limit(duration_s),
            tick=tick,
            on_stdout=collect,
        )
    )
    return [Frame(round(i * every_s, 3), pixels) for i, pixels in enumerate(collect.frames)]


def still(binary: str, rendition: Path, *, at_s: float, width: int, height: int) -> Frame | None:
    """The frame shown at `at_s`, or None when there is none there."""
    collect = _Collector(width, height, 1)
    process.run(
        process.Run(
            args=commands.still_command(binary, rendition, at_s=at_s, width=width, height=height),
            time_limit_s=limits.TIME_LIMIT_BASE_S,
            on_stdout=collect,
        )
    )
    return Frame(at_s, collect.frames[0]) if collect.frames else None
