"""Media tools one package lends another through the core.

gdpr decides which faces of a video to blur, but ffmpeg runs (hardened) in ingest, and
the two do not import each other: ingest lends its video blurrers through the runtime's
wiring (one for our renditions, made into redacted downloads; one for a stored original,
re-encoded when an erased person's face is blurred into it), gdpr asks for them. The blur
itself is defined once, here, so photos (blurred by gdpr with Pillow) and videos (blurred
by ffmpeg) hide a face the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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


class OriginalBlurrer(Protocol):
    def __call__(
        self,
        source: Path,
        target: Path,
        *,
        width: int,
        height: int,
        regions: Sequence[BlurRegion],
        progress: Callable[[float], None],
    ) -> None:
        """Write the stored original `source` (any video the pipeline accepts) to `target`
        as an MP4 of `width` x `height` (even; upright, square pixels: the picture the
        asset shows) with `regions` blurred, every frame, the sound and the file's own tags
        kept; `progress` hears how far it got (0..1). Raises ProcessingError when that
        fails."""
        ...


class BlurMemory(Protocol):
    def __call__(self, width: int, height: int, hdr: bool) -> int:
        """The bytes of memory the original blurrer needs for a video of `width` x
        `height` (HDR or not): what a job that runs it declares to the memory budget."""
        ...


# The wiring's extension points for them: `wiring.extend(VIDEO_BLURRER, name, blurrer)`.
VIDEO_BLURRER = "media.video_blurrer"
ORIGINAL_BLURRER = "media.original_blurrer"
ORIGINAL_BLUR_MEMORY = "media.original_blur_memory"


def video_blurrer(wiring: Wiring) -> VideoBlurrer:
    """The video blurrer a package lent (ingest's ffmpeg one); the last one added wins."""
    blurrer: VideoBlurrer = _lent(wiring, VIDEO_BLURRER)
    return blurrer


def original_blurrer(wiring: Wiring) -> OriginalBlurrer:
    """The blurrer of stored video originals a package lent (ingest's ffmpeg one)."""
    blurrer: OriginalBlurrer = _lent(wiring, ORIGINAL_BLURRER)
    return blurrer


def original_blur_memory(wiring: Wiring) -> BlurMemory:
    """What the lent original blurrer needs, by video size."""
    need: BlurMemory = _lent(wiring, ORIGINAL_BLUR_MEMORY)
    return need


def _lent(wiring: Wiring, point: str) -> Any:
    lent = list(wiring.extension(point).values())
    if not lent:
        raise ProcessingError("This installation cannot blur videos (no video tools loaded).")
    return lent[-1]
