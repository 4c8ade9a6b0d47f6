"""Storyboard (a sprite sheet of small frames plus a WebVTT index for scrub previews) and
the choice of a poster frame. Pure: frames in, bytes and decisions out."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ingest.video.display import even_fit

MAX_TILES = 200
TILE_BOX = 160  # a tile fits 160 x 160: 160 x 90 for landscape, 90 x 160 for portrait
COLUMNS = 10
# Intervals people read easily on a timeline; the smallest one that keeps the sheet
# within MAX_TILES is used.
_NICE_INTERVALS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600)

# A frame is "black" (fade, lens cap, title gap) below this mean luma, and "flat" (a
# blank card) below this spread; neither makes a poster.
_BLACK_LUMA = 24.0
_FLAT_SPREAD = 8.0
_WHITE_LUMA = 240.0


@dataclass(frozen=True)
class StoryboardPlan:
    interval_s: float
    count: int
    tile_width: int
    tile_height: int
    columns: int

    @property
    def rows(self) -> int:
        return math.ceil(self.count / self.columns)

    @property
    def sheet_size(self) -> tuple[int, int]:
        return self.columns * self.tile_width, self.rows * self.tile_height

    def position(self, index: int) -> tuple[int, int]:
        """Top-left corner of tile `index` in the sheet."""
        row, column = divmod(index, self.columns)
        return column * self.tile_width, row * self.tile_height


def plan_storyboard(duration_s: float, width: int, height: int) -> StoryboardPlan:
    """Tiles every few seconds over the whole video, at most MAX_TILES of them."""
    wanted = duration_s / MAX_TILES
    interval = next((i for i in _NICE_INTERVALS if i >= wanted), math.ceil(wanted))
    count = max(1, min(MAX_TILES, math.ceil(duration_s / interval)))
    tile_w, tile_h = even_fit(width, height, TILE_BOX, TILE_BOX)
    return StoryboardPlan(float(interval), count, tile_w, tile_h, min(COLUMNS, count))


def storyboard_vtt(plan: StoryboardPlan, duration_s: float, image_ref: str) -> str:
    """WebVTT cues 'from -> to' pointing at the tile (media fragment #xywh=...) to show."""
    lines = ["WEBVTT", ""]
    for index in range(plan.count):
        start = index * plan.interval_s
        end = min(duration_s, start + plan.interval_s)
        if end <= start:
            break
        x, y = plan.position(index)
        lines += [
            f"{_stamp(start)} --> {_stamp(end)}",
            f"{image_ref}#xywh={x},{y},{plan.tile_width},{plan.tile_height}",
            "",
        ]
    return "\n".join(lines)


def compose_sheet(plan: StoryboardPlan, tiles: Sequence[np.ndarray]) -> bytes:
    """The sprite sheet as JPEG; missing tiles at the end repeat the last one."""
    sheet = Image.new("RGB", plan.sheet_size, (0, 0, 0))
    for index in range(plan.count):
        if not tiles:
            break
        pixels = tiles[min(index, len(tiles) - 1)]
        sheet.paste(Image.fromarray(pixels, "RGB"), plan.position(index))
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=70, optimize=True, progressive=True)
    return buffer.getvalue()


def choose_poster(tiles: Sequence[np.ndarray]) -> int:
    """The index of the most representative frame that is neither black nor blank.

    Representative: the frame whose colour histogram is closest to the average of all
    usable frames, so a one-off flash or title card does not win. Without usable frames,
    the brightest one.
    """
    if not tiles:
        return 0
    lumas = [_luma(t) for t in tiles]
    usable = [
        i
        for i, luma in enumerate(lumas)
        if _BLACK_LUMA <= float(luma.mean()) <= _WHITE_LUMA and float(luma.std()) >= _FLAT_SPREAD
    ]
    if not usable:
        return max(range(len(tiles)), key=lambda i: float(lumas[i].mean()))
    histograms = {i: _histogram(tiles[i]) for i in usable}
    average = np.mean(list(histograms.values()), axis=0)
    return min(usable, key=lambda i: (float(np.sum((histograms[i] - average) ** 2)), i))


def _luma(pixels: np.ndarray) -> np.ndarray:
    rgb = pixels.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def _histogram(pixels: np.ndarray) -> np.ndarray:
    channels = [np.histogram(pixels[..., c], bins=16, range=(0, 256))[0] for c in range(3)]
    counts = np.concatenate(channels).astype(np.float64)
    return counts / max(1.0, counts.sum())


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
