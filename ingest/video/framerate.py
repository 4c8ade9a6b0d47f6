"""Frame rate from packet times: the average, and whether it varies (phones record VFR)."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# A frame interval counts as off when it differs from the typical one by more than this
# (container time bases round: 29.97 fps in milliseconds alternates 33 and 34 ms).
_TOLERANCE = 0.10
# ... and the rate varies when more than this share of intervals are off (one dropped
# frame in a constant-rate recording is not variable frame rate).
_VARIABLE_SHARE = 0.02


@dataclass(frozen=True)
class FrameRate:
    fps: float | None
    variable: bool
    min_fps: float | None = None
    max_fps: float | None = None


def frame_rate(times: Sequence[float], declared: float | None = None) -> FrameRate:
    """Judge the rate from presentation times (seconds, any order); fall back on the
    container's declared rate when there are too few."""
    stamps = sorted(set(times))
    intervals = [b - a for a, b in itertools.pairwise(stamps) if b > a]
    if len(intervals) < 2:
        return FrameRate(declared, False, declared, declared)
    typical = statistics.median(intervals)
    off = sum(1 for i in intervals if abs(i - typical) > _TOLERANCE * typical)
    variable = off > _VARIABLE_SHARE * len(intervals)
    # The average, not the typical interval: time bases round (WebM keeps milliseconds,
    # so 30 fps shows as 33 and 34 ms intervals).
    fps = len(intervals) / (stamps[-1] - stamps[0])
    slowest, fastest = round(1 / max(intervals), 3), round(1 / min(intervals), 3)
    return FrameRate(round(fps, 3), variable, slowest, fastest)
