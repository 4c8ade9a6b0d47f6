"""What a video job declares to the job runner's memory budget.

The work happens in child processes (the probe, ffmpeg), but their memory is the
machine's all the same. Frames in flight grow with the picture: decoder and encoder
threads each hold a few, and the scaler and the filters theirs.
"""

from __future__ import annotations

from dam.jobs import StageContext
from dam.models import Asset
from ingest.video import limits

BASE = 256 * 1024**2  # the tool itself, its libraries, buffers
FRAMES_IN_FLIGHT = 48
BYTES_PER_PIXEL = 1.5  # 8-bit 4:2:0
# An HDR tone map works on linear light in 32-bit float RGB: a few such frames at a time.
TONEMAP_FRAMES = 4
TONEMAP_BYTES_PER_PIXEL = 12


def probe_need(_ctx: StageContext) -> int:
    return BASE


def transcode_need(ctx: StageContext) -> int:
    """From the size the probe stored (the largest a video may have when it is unknown)."""
    with ctx.session() as session:
        asset = session.get(Asset, ctx.asset_id)
    width = asset.width if asset is not None and asset.width else 0
    height = asset.height if asset is not None and asset.height else 0
    pixels = min(width * height, limits.MAX_PIXELS) if width and height else limits.MAX_PIXELS
    need = BASE + int(pixels * BYTES_PER_PIXEL * FRAMES_IN_FLIGHT)
    # Never refused for size: ffmpeg has its own hard cap; a large video then runs alone.
    return min(need, ctx.settings.job_memory_bytes)


def blur_need(width: int, height: int, hdr: bool) -> int:
    """Re-encoding a stored original with faces blurred (dam.media.BlurMemory): frames of
    the whole picture, which no web version caps at 1080 lines here, and the float frames
    of a tone map when it is HDR; the blurred regions are small beside them."""
    pixels = min(width * height, limits.MAX_PIXELS) if width and height else limits.MAX_PIXELS
    need = BASE + int(pixels * BYTES_PER_PIXEL * FRAMES_IN_FLIGHT)
    if hdr:
        need += pixels * TONEMAP_BYTES_PER_PIXEL * TONEMAP_FRAMES
    return need
