"""Media tools one package lends another through the core.

gdpr decides which faces of a video to blur, but ffmpeg runs (hardened) in ingest, and
the two do not import each other: ingest registers its video blurrer here at start-up,
gdpr asks for it. The blur itself is defined once, here, so photos (blurred by gdpr with
Pillow) and videos (blurred by ffmpeg) hide a face the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dam.errors import ProcessingError

# A hidden region is averaged down to this many blocks along its longer side, scaled
# back up smoothly, then blurred with a Gaussian of this fraction of its shorter side: no
# eye, nose or mouth survives, so no detector (or person) finds a face there.
BLUR_BLOCKS = 6
BLUR_SIGMA_FRACTION = 0.12


@dataclass(frozen=True)
class BlurRegion:
    """A rectangle of a video's frames (pixels, even) to blur from start_s to end_s."""

    left: int
    top: int
    width: int
    height: int
    start_s: float = 0.0
    end_s: float | None = None  # None: to the end of the video

    def __post_init__(self) -> None:
        if min(self.width, self.height) < 2 or min(self.left, self.top) < 0:
            raise ValueError(f"not a region to blur: {self}")


class VideoBlurrer(Protocol):
    def __call__(
        self, source: Path, target: Path, *, regions: Sequence[BlurRegion], duration_s: float
    ) -> None:
        """Write `source` (one of our MP4 renditions) to `target` (MP4) with `regions`
        blurred and the sound kept; raises ProcessingError when that fails."""
        ...


_video_blurrer: VideoBlurrer | None = None


def register_video_blurrer(blurrer: VideoBlurrer) -> None:
    global _video_blurrer
    _video_blurrer = blurrer


def video_blurrer() -> VideoBlurrer:
    """The registered video blurrer (ingest's ffmpeg one)."""
    if _video_blurrer is None:
        raise ProcessingError("This installation cannot blur videos (no video tools loaded).")
    return _video_blurrer
