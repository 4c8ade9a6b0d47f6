"""Which frames of a video to search for faces: about one a second, plus every scene cut.

Pure. The video is scanned at SCAN_FPS; a scanned frame is kept when `every_s` passed
since the last kept one, or when its colours differ from the frame before by more than
CUT_DISTANCE (a cut: a new shot may show new people, so it is searched at once rather
than up to a second later). Long videos are sampled more sparsely, and cuts stop counting
after MAX_CUTS, so the work per video stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCAN_FPS = 4.0
EVERY_S = 1.0
# At most this many frames on the regular grid: longer videos get a wider interval.
MAX_GRID_FRAMES = 1800
MAX_CUTS = 600
# Half the L1 distance between colour histograms (0: the same colours, 1: none shared).
# Camera motion and zooms stay far below it; a cut between shots goes far above.
CUT_DISTANCE = 0.3
_BINS = 16
_STRIDE = 4  # every 4th pixel in both directions is plenty for a histogram


@dataclass(frozen=True)
class SamplingPlan:
    scan_every_s: float  # the interval of the frames ffmpeg hands over
    every_s: float  # the interval of the frames searched for faces
    max_frames: int  # grid frames plus cuts, at most


def plan_sampling(duration_s: float) -> SamplingPlan:
    """About one frame a second; sparser for videos longer than MAX_GRID_FRAMES seconds."""
    every = max(EVERY_S, duration_s / MAX_GRID_FRAMES)
    scan = min(every, 1.0 / SCAN_FPS)
    return SamplingPlan(scan_every_s=scan, every_s=every, max_frames=MAX_GRID_FRAMES + MAX_CUTS + 1)


def colour_histogram(pixels: np.ndarray) -> np.ndarray:
    """Per-channel histograms of an RGB frame, each summing to one (48 numbers)."""
    sample = pixels[::_STRIDE, ::_STRIDE].reshape(-1, 3)
    counts = [np.bincount(sample[:, c] // (256 // _BINS), minlength=_BINS) for c in range(3)]
    total = max(1, sample.shape[0])
    return np.concatenate(counts).astype(np.float64) / total


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """0 for the same colour distribution, 1 for disjoint ones (averaged over channels)."""
    return float(np.abs(a - b).sum()) / 6.0


class FrameSampler:
    """Decides, scanned frame by scanned frame, which ones are searched for faces."""

    def __init__(self, plan: SamplingPlan) -> None:
        self.plan = plan
        self.previous: np.ndarray | None = None
        self.last_kept_s: float | None = None
        self.kept = 0
        self.cuts = 0

    def wants(self, time_s: float, pixels: np.ndarray) -> bool:
        """Whether the frame at `time_s` is to be searched (call for every scanned frame)."""
        histogram = colour_histogram(pixels)
        cut = (
            self.previous is not None
            and histogram_distance(self.previous, histogram) > CUT_DISTANCE
            and self.cuts < MAX_CUTS
        )
        self.previous = histogram
        # A little slack: scanned times are rounded to the millisecond.
        due = self.last_kept_s is None or time_s - self.last_kept_s >= self.plan.every_s - 1e-3
        if self.kept >= self.plan.max_frames or not (due or cut):
            return False
        if cut and not due:
            self.cuts += 1
        self.last_kept_s = time_s
        self.kept += 1
        return True
