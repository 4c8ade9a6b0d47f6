"""Blurring regions of one of our video renditions (redacted downloads of gdpr), lent to
gdpr through `dam.media` so that ffmpeg keeps running only here, hardened.

Each region is cut out of the frame, averaged down to a few blocks, scaled back up and
blurred (`dam.media.BLUR_BLOCKS`, `BLUR_SIGMA_FRACTION`), and laid back over the frame
while its time span lasts. The sound is copied untouched.

Every region is cut from the same unblurred frame (one split into as many copies), and
the blurred pieces are laid over it one after the other. Cutting each region from the
frame the previous one was laid over instead makes a chain twice as deep that ffmpeg
runs ever slower: 17 regions took six times as long as 14 on 720p, 20 ran out of time.
The blur runs only while its region is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import ffmpeg

from dam.errors import ProcessingError
from dam.media import BLUR_BLOCKS, BLUR_SIGMA_FRACTION, BlurRegion
from ingest.ffmpeg import ffmpeg_binary
from ingest.video import limits, process
from ingest.video.commands import RENDITION_DEMUXER, global_args
from ingest.video.formats import input_options
from ingest.video.ladder import CRF, PRESET

log = logging.getLogger(__name__)


def blur_command(
    binary: str,
    source: Path,
    target: Path,
    *,
    regions: Sequence[BlurRegion],
    duration_s: float,
) -> list[str]:
    """Re-encode `source` (our MP4) to `target` with `regions` blurred, sound copied."""
    source_in = ffmpeg.input(f"file:{source.resolve()}", **input_options(RENDITION_DEMUXER))
    video = source_in["v:0"]
    if regions:
        copies = video.filter_multi_output("split", len(regions) + 1)
        video = copies.stream(0)
        for n, region in enumerate(regions, start=1):
            video = video.overlay(
                _blob(copies.stream(n), region),
                x=region.left,
                y=region.top,
                enable=_enable(region),
            )
    video = video.filter("format", "yuv420p")
    out = ffmpeg.output(
        video,
        source_in["a?"],
        f"file:{target.resolve()}",
        **{
            "c:v": "libx264",
            "preset": PRESET,
            "crf": CRF,
            "c:a": "copy",
            "movflags": "+faststart",
            "map_metadata": "-1",
            "map_chapters": "-1",
            # Never longer than the rendition (a damaged file must not run for days).
            "t": f"{duration_s * 1.05 + 2:.3f}",
            "f": "mp4",
        },
    )
    args: list[str] = out.global_args(*global_args()).compile(cmd=binary, overwrite_output=True)
    return args


def _blob(
    stream: ffmpeg.nodes.FilterableStream, region: BlurRegion
) -> ffmpeg.nodes.FilterableStream:
    """The region, unrecognisable: a few blocks, smoothly scaled back up, then blurred."""
    longer = max(region.width, region.height)
    blocks_w = max(1, round(BLUR_BLOCKS * region.width / longer))
    blocks_h = max(1, round(BLUR_BLOCKS * region.height / longer))
    sigma = max(1.0, BLUR_SIGMA_FRACTION * min(region.width, region.height))
    return (
        stream.filter("crop", region.width, region.height, region.left, region.top)
        .filter("scale", blocks_w, blocks_h, flags="area")
        .filter("scale", region.width, region.height, flags="bilinear")
        .filter("gblur", sigma=f"{sigma:.1f}", enable=_enable(region))
    )


def _enable(region: BlurRegion) -> str:
    if region.end_s is None:
        return f"gte(t,{region.start_s:.3f})"
    return f"between(t,{region.start_s:.3f},{region.end_s:.3f})"


def blur_video(
    source: Path, target: Path, *, regions: Sequence[BlurRegion], duration_s: float
) -> None:
    """`dam.media.VideoBlurrer`: run blur_command with the pipeline's limits."""
    binary = ffmpeg_binary()
    if binary is None:
        raise ProcessingError("ffmpeg is not installed, so videos cannot be blurred.")
    run = process.Run(
        args=blur_command(binary, source, target, regions=regions, duration_s=duration_s),
        time_limit_s=limits.time_limit(duration_s),
    )
    try:
        process.run(run)
    except process.FfmpegFailed as exc:
        log.warning("blurring %s failed: %s %s", source.name, exc, exc.tail)
        target.unlink(missing_ok=True)
        raise ProcessingError("The blurred version of this video could not be made.") from exc
