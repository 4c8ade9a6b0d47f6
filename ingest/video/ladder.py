"""Which web renditions a video gets, at what size and bit rate (pure).

Quality-based rate control (CRF) keeps easy footage small; the VBV cap keeps a noisy or
busy shot from outgrowing what a colleague's connection streams. Sizes are fitted to a
box (landscape or portrait alike), even, and never larger than the source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest.video.display import even_fit
from ingest.video.info import VideoInfo

MAX_FPS = 60.0
# The encoder speed/size trade-off: "faster" is about twice as fast as "medium" on two
# cores for files a few percent larger; the web versions are previews and downloads,
# the original stays the master.
PRESET = "faster"
CRF = 23
KEYFRAME_INTERVAL_S = 2.0  # seeking lands within two seconds; storyboards rely on it


@dataclass(frozen=True)
class WebRendition:
    name: str
    box_long: int
    box_short: int
    width: int
    height: int
    maxrate_kbps: int
    audio_kbps: int
    audio_channels: int

    @property
    def bufsize_kbps(self) -> int:
        return 2 * self.maxrate_kbps


# name, box (long x short edge), bit-rate cap at up to 30 fps
_LADDER = (
    ("web_1080", 1920, 1080, 8000),
    ("web_720", 1280, 720, 4000),
)


def web_renditions(info: VideoInfo) -> list[WebRendition]:
    """web_720 always; web_1080 when the source has at least 1080 lines (short side)."""
    short = min(info.display_width, info.display_height)
    fast = output_fps(info.fps) is not None and (output_fps(info.fps) or 0) > 30.5
    channels = min(2, info.audio.channels) if info.audio else 0
    result = []
    for name, box_long, box_short, maxrate in _LADDER:
        if name != "web_720" and short < box_short:
            continue
        width, height = even_fit(info.display_width, info.display_height, box_long, box_short)
        result.append(
            WebRendition(
                name=name,
                box_long=box_long,
                box_short=box_short,
                width=width,
                height=height,
                # More frames per second need more bits for the same look.
                maxrate_kbps=maxrate * 3 // 2 if fast else maxrate,
                audio_kbps=128 if channels >= 2 else 96,
                audio_channels=channels,
            )
        )
    return result


def output_fps(fps: float | None) -> float | None:
    """The frame rate of the web versions: the source's, halved until it is at most 60
    (slow-motion phone clips record 120 or 240)."""
    if fps is None or fps <= 0:
        return None
    if fps <= MAX_FPS + 0.5:
        return fps
    return round(fps / math.ceil(fps / MAX_FPS), 3)


def keyframe_interval(fps: float | None) -> int:
    """Frames between keyframes for KEYFRAME_INTERVAL_S seconds."""
    rate = output_fps(fps) or 30.0
    return max(1, round(rate * KEYFRAME_INTERVAL_S))
