"""Blurring regions of a video, lent to gdpr through `dam.media` so that ffmpeg keeps
running only here, hardened: one of our renditions for a redacted download (`blur_video`),
or a stored original re-encoded with an erased person's face blurred (`blur_original`).

Each region is cut out of the frame, averaged down to a few blocks, scaled back up and
blurred (`dam.media.BLUR_BLOCKS`, `BLUR_SIGMA_FRACTION`), and laid back over the frame
while its time span lasts. The sound is copied untouched.

Every region is cut from the same unblurred frame (one split into as many copies), and
the blurred pieces are laid over it one after the other. Cutting each region from the
frame the previous one was laid over instead makes a chain twice as deep that ffmpeg
runs ever slower: 17 regions took six times as long as 14 on 720p, 20 ran out of time.
The blur runs only while its region is shown.

A blurred original is the master from then on (the web versions are made again from it):
H.264 at a high quality (ORIGINAL_CRF) in the picture the asset shows (upright, square
pixels, deinterlaced; HDR tone-mapped where ffmpeg can), every frame at its own time, the
file's own tags and chapters kept. Every sound track we can read is kept (a second
language, a commentary), each copied as it is when MP4 holds it (MP4_SOUND), PCM as ALAC
(lossless), anything else as AAC at SOUND_KBPS; when copying fails after all, every track
is encoded to AAC in a second try.

ffmpeg holds frames of the whole picture (no 1080-line cap here, unlike the web
versions): the erasure's job declares that to the memory budget through
ingest.video.budget.blur_need, lent to gdpr as dam.media.ORIGINAL_BLUR_MEMORY.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import ffmpeg

from dam.errors import ProcessingError
from dam.media import BLUR_BLOCKS, BLUR_SIGMA_FRACTION, BlurRegion
from ingest.ffmpeg import ffmpeg_binary
from ingest.sniff import HEAD_BYTES, sniff
from ingest.video import limits, process
from ingest.video.commands import RENDITION_DEMUXER, deinterlace, global_args, tonemapped
from ingest.video.formats import demuxer_for, input_options
from ingest.video.info import AudioInfo, VideoInfo
from ingest.video.ladder import CRF, PRESET
from ingest.video.probe import probe
from ingest.video.progress import fraction
from ingest.video.toolbox import can_tonemap

log = logging.getLogger(__name__)

# A blurred original replaces the master: far above the web versions' quality (CRF 23).
ORIGINAL_CRF = 16
# Sound MP4 holds as it is (copied bit for bit); PCM becomes ALAC, the rest AAC.
MP4_SOUND = frozenset({"aac", "mp3", "mp2", "ac3", "eac3", "alac", "opus"})
SOUND_KBPS = 320


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
    video = _blurred(source_in["v:0"], regions).filter("format", "yuv420p")
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


def original_blur_command(
    binary: str,
    source: Path,
    target: Path,
    *,
    demuxer: str,
    info: VideoInfo,
    width: int,
    height: int,
    regions: Sequence[BlurRegion],
    tonemap: bool = True,
    copy_sound: bool = True,
) -> list[str]:
    """Re-encode the original `source` (read with `demuxer` only) to `target`: the picture
    the asset shows at `width` x `height`, `regions` blurred, the sound and tags kept."""
    source_in = ffmpeg.input(f"file:{source.resolve()}", **input_options(demuxer))
    video = source_in["v:0"]
    if info.interlaced:
        video = deinterlace(video)
    if info.hdr and tonemap:
        video = tonemapped(video)
    # ffmpeg turns the picture upright as it decodes (and drops the rotation from the
    # output); the pixels are made square, as the face boxes are relative to that picture.
    video = video.filter("scale", width, height, out_range="tv").filter("setsar", 1)
    video = _blurred(video, regions).filter("format", "yuv420p")
    streams = [video]
    options: dict[str, object] = {
        "c:v": "libx264",
        "profile:v": "high",
        "preset": PRESET,
        "crf": ORIGINAL_CRF,
        "movflags": "+faststart",
        # Never longer than the probed length (a damaged file must not run for days).
        "t": f"{info.duration_s * 1.05 + 2:.3f}",
        "f": "mp4",
    }
    for n, track in enumerate(sound_tracks(info)):
        streams.append(source_in[str(track.index)])
        chosen = sound_options(track, copy=copy_sound)
        options.update({f"{key}:{n}": value for key, value in chosen.items()})
    out = ffmpeg.output(*streams, f"file:{target.resolve()}", **options)
    args: list[str] = out.global_args(*global_args()).compile(cmd=binary, overwrite_output=True)
    return args


def sound_tracks(info: VideoInfo) -> tuple[AudioInfo, ...]:
    """Every sound track a blurred original keeps."""
    if info.audio_tracks:
        return info.audio_tracks
    return (info.audio,) if info.audio is not None else ()


def sound_options(audio: AudioInfo, *, copy: bool = True) -> dict[str, object]:
    """How a blurred original keeps the sound: as it is, lossless, or as AAC."""
    if copy and audio.codec in MP4_SOUND:
        return {"c:a": "copy"}
    if copy and audio.codec.startswith("pcm_"):
        return {"c:a": "alac"}
    return {"c:a": "aac", "b:a": f"{SOUND_KBPS}k"}


def _blurred(
    video: ffmpeg.nodes.FilterableStream, regions: Sequence[BlurRegion]
) -> ffmpeg.nodes.FilterableStream:
    """`video` with every region blurred, each cut from the same unblurred frame."""
    if not regions:
        return video
    copies = video.filter_multi_output("split", len(regions) + 1)
    video = copies.stream(0)
    for n, region in enumerate(regions, start=1):
        video = video.overlay(
            _blob(copies.stream(n), region),
            x=region.left,
            y=region.top,
            enable=_enable(region),
        )
    return video


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


def blur_original(
    source: Path,
    target: Path,
    *,
    width: int,
    height: int,
    regions: Sequence[BlurRegion],
    progress: Callable[[float], None],
) -> None:
    """`dam.media.OriginalBlurrer`: run original_blur_command with the pipeline's limits
    (and once more with the sound encoded when copying it failed)."""
    binary = ffmpeg_binary()
    if binary is None:
        raise ProcessingError("ffmpeg is not installed, so videos cannot be blurred.")
    with source.open("rb") as fh:
        label = sniff(fh.read(HEAD_BYTES)).label
    info = probe(source, label=label)
    demuxer, tonemap = demuxer_for(label), can_tonemap(binary)

    def encode(copy_sound: bool) -> None:
        args = original_blur_command(
            binary,
            source,
            target,
            demuxer=demuxer,
            info=info,
            width=width,
            height=height,
            regions=regions,
            tonemap=tonemap,
            copy_sound=copy_sound,
        )
        limit = original_time_limit(info.duration_s, width, height)
        tick = _ticks(progress, info.duration_s)
        process.run(process.Run(args=args, time_limit_s=limit, tick=tick))

    try:
        try:
            encode(copy_sound=True)
        except process.FfmpegFailed as exc:
            tracks = sound_tracks(info)
            if isinstance(exc, process.FfmpegTimedOut) or not tracks:
                raise
            if all(sound_options(t) == sound_options(t, copy=False) for t in tracks):
                raise
            log.warning("blurring %s with its sound as it was failed: %s", source.name, exc.tail)
            encode(copy_sound=False)
    except process.FfmpegTimedOut:
        target.unlink(missing_ok=True)
        raise ProcessingError(
            "Blurring a video took longer than its time limit, so it was stopped; the file "
            "is probably damaged. Nothing was erased."
        ) from None
    except process.FfmpegFailed as exc:
        log.warning("blurring original %s failed: %s %s", source.name, exc, exc.tail)
        target.unlink(missing_ok=True)
        raise ProcessingError(
            "A video could not be blurred: ffmpeg stopped on an error in its original, which "
            "is probably damaged. Nothing was erased."
        ) from exc


def original_time_limit(duration_s: float, width: int, height: int) -> float:
    """The pipeline's time limit, grown with the picture beyond 1080p: the web versions
    encode at most 1080 lines, a blurred original every pixel of a 4K or 8K master."""
    return limits.time_limit(duration_s) * max(1.0, width * height / (1920 * 1080))


def _ticks(progress: Callable[[float], None], duration_s: float) -> Callable[[float | None], None]:
    def tick(seconds: float | None) -> None:
        progress(fraction(seconds, duration_s) or 0.0)

    return tick
