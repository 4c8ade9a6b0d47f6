"""Media tools one package lends another through the core.

gdpr decides which faces of a video to blur, but ffmpeg runs (hardened) in ingest, and
the two do not import each other: ingest lends its video blurrer through the runtime's wiring,
gdpr asks for it. The blur itself is defined once, here, so photos (blurred by gdpr with
Pillow) and videos (blurred by ffmpeg) hide a face the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dam.errors import ProcessingError
from dam.wiring import Wiring

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


# The wiring's extension point for it: `wiring.extend(VIDEO_BLURRER, name, blurrer)`.
VIDEO_BLURRER = "media.video_blurrer"


def video_blurrer(wiring: Wiring) -> VideoBlurrer:
    """The video blurrer a package lent (ingest's ffmpeg one); the last one added wins."""
    lent = list(wiring.extension(VIDEO_BLURRER).values())
    if not lent:
        raise ProcessingError("This installation cannot blur videos (no video tools loaded).")
    blurrer: VideoBlurrer = lent[-1]
    return blurrer
