"""The video pipeline's stages: probe, web renditions, poster and storyboard."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from sqlmodel import col, select

from dam.errors import N_, N_plural, ProcessingError
from dam.jobs import StageContext
from dam.models import Asset, Rendition
from ingest.ffmpeg import ffmpeg_binary
from ingest.image.metadata import fill_licence, licence_fields, xmp_licence
from ingest.originals import load_original
from ingest.video import commands, frames, limits, process
from ingest.video.formats import demuxer_for
from ingest.video.guard import JobGuard
from ingest.video.info import AUDIO_UNDECODABLE, VideoInfo
from ingest.video.ladder import web_renditions
from ingest.video.loudness import Loudness, parse_ebur128_summary
from ingest.video.mp4box import check_web_file
from ingest.video.probe import probe
from ingest.video.publish import Produced, publish, scratch_dir
from ingest.video.storyboard import choose_poster, compose_sheet, plan_storyboard, storyboard_vtt
from ingest.video.toolbox import can_tonemap

log = logging.getLogger(__name__)

STORYBOARD = "storyboard"
THUMB_EDGE = 400


def probe_video(ctx: StageContext) -> None:
    """Read duration, upright size, frame rate, codecs and capture tags into the asset."""
    asset, path, label = load_original(ctx)
    info = probe(path, label=label)
    JobGuard(ctx).progress(0.8)
    with ctx.session() as session:
        row = session.get(Asset, asset.id)
        if row is None:
            return
        row.width, row.height = info.display_width, info.display_height
        row.duration_s = info.duration_s
        taken = info.tags.taken
        if taken is not None:
            row.taken_at = taken.at
            row.taken_at_offset_min = taken.offset_min
        # What an import's sidecar put there (rating, label, people) stays beside it.
        row.meta = {**(row.meta or {}), **capture_metadata(info)}
        # Embedded titles and rights fill empty fields only: what a person typed wins.
        row.title = row.title or (info.tags.title or "")[:500]
        row.description = row.description or (info.tags.description or "")
        row.licence = fill_licence(row.licence, embedded_licence(info))
        session.commit()


def embedded_licence(info: VideoInfo) -> dict[str, str]:
    """The licence record's fields the video's own rights fill, by the photo's rules: its
    XMP first (copyright, credit, terms, rights URL, creator), then the container's
    tags (copyright, artist or author, Matroska's licence or terms of use)."""
    tags = info.tags
    from_tags = licence_fields(
        {"copyright": tags.copyright, "creator": tags.creator, "usage_terms": tags.terms}
    )
    from_xmp = xmp_licence(info.xmp.encode("utf-8", "replace")) if info.xmp else {}
    return {**from_tags, **from_xmp}


def capture_metadata(info: VideoInfo) -> dict[str, Any]:
    """The API's `metadata` object for a video."""
    tags = info.tags
    location = tags.location
    gps: dict[str, float] | None = None
    if location is not None:
        gps = {"lat": location.lat, "lon": location.lon}
        if location.alt_m is not None:
            gps["alt"] = location.alt_m
    return {
        "camera": tags.camera,
        "camera_make": tags.camera_make,
        "camera_model": tags.camera_model,
        "gps": gps,
        "creator": tags.creator,
        "copyright": tags.copyright,
        "keywords": [],
        "video": info.facts(),
    }


def render_video(ctx: StageContext) -> None:
    """web_720 (and web_1080 for sources of 1080 lines or more) in one ffmpeg run."""
    _asset, path, label = load_original(ctx)
    guard = JobGuard(ctx)
    binary = _ffmpeg()
    demuxer = demuxer_for(label)
    info = probe(path, label=label)
    guard.progress(0.02)
    plan = web_renditions(info)
    with scratch_dir(ctx) as scratch:
        loudness = None
        sound_suspect = False  # the loudness pass could not decode the sound
        if info.audio is not None:
            try:
                loudness = _measure_loudness(ctx, binary, path, demuxer, info, guard)
            except _SoundUndecodable:
                sound_suspect = True
        outputs = [commands.WebOutput(spec, scratch / f"{spec.name}.mp4") for spec in plan]
        tonemap = can_tonemap(binary)

        def encode(info: VideoInfo, loudness: Loudness | None) -> _Encoded:
            args = commands.web_renditions_command(
                binary,
                path,
                demuxer=demuxer,
                info=info,
                outputs=outputs,
                loudness=loudness,
                tonemap=tonemap,
            )
            encoded = _Encoded(guard.span(0.06, 0.98, info.duration_s))
            _ffmpeg_run(args, info.duration_s, encoded)
            return encoded

        try:
            encoded = encode(info, loudness)
        except process.FfmpegFailed as exc:
            if info.audio is None or isinstance(exc, process.FfmpegTimedOut):
                raise _failure(ctx, exc, info.duration_s, "web version") from None
            # Sound that cannot be decoded does not cost the pictures: again, silent.
            _log_failure(ctx, exc, "web version (with sound)")
            info, loudness = info.without_audio(AUDIO_UNDECODABLE), None
            try:
                encoded = encode(info, loudness)
            except process.FfmpegFailed as again:
                raise _failure(ctx, again, info.duration_s, "web version") from None
        for output in outputs:
            check_web_file(output.path)
        if sound_suspect and info.audio is not None and _silent(outputs[0].path):
            # ffmpeg 5.1 writes the web version without a sound track instead of failing.
            info = info.without_audio(AUDIO_UNDECODABLE)
        produced = []
        for output in outputs:
            spec = output.rendition
            produced.append(
                Produced(spec.name, output.path, "mp4", "video/mp4", spec.width, spec.height)
            )

        # A file cut short (its index intact, its data not) converts up to where it ends:
        # the web version is then the truth about the length.
        short = encoded.seconds is not None and encoded.seconds < info.duration_s * 0.9 - 0.5

        def record(row: Asset) -> None:
            meta = {**(row.meta or {}), "loudness": loudness.as_json() if loudness else None}
            if info.audio_note is not None:
                meta["video"] = {**meta.get("video", {}), "audio": None}
                meta["video"]["audio_note"] = info.audio_note
            if short and encoded.seconds is not None:
                meta["truncated"] = {"claimed_s": info.duration_s, "playable_s": encoded.seconds}
                row.duration_s = round(encoded.seconds, 3)
            row.meta = meta

        publish(ctx, produced, update=record)


def storyboard_video(ctx: StageContext) -> None:
    """Poster (plus a thumbnail) from a representative non-black frame, and the storyboard
    sprite sheet with its WebVTT index, all read from the web rendition."""
    asset, _path, _label = load_original(ctx)
    guard = JobGuard(ctx)
    binary = _ffmpeg()
    smallest, largest = _web_renditions(ctx)
    duration = asset.duration_s or 0.0
    plan = plan_storyboard(duration, smallest.width, smallest.height)
    tiles = frames.frames_every(
        binary,
        ctx.blobs.root / smallest.path,
        every_s=plan.interval_s,
        width=plan.tile_width,
        height=plan.tile_height,
        duration_s=duration,
        limit=plan.count,
        tick=guard.span(0.0, 0.8, duration),
    )
    if not tiles:
        # Shorter than half an interval (a clip of a fraction of a second): its first picture.
        first = frames.still(
            binary,
            ctx.blobs.root / smallest.path,
            at_s=0,
            width=plan.tile_width,
            height=plan.tile_height,
        )
        tiles = [first] if first is not None else []
    if not tiles:
        raise ProcessingError("The web version holds no pictures to make a poster from.")
    chosen = choose_poster([t.pixels for t in tiles])
    at = min(tiles[chosen].time_s, max(0.0, duration - 0.1))
    source, size = ctx.blobs.root / largest.path, (largest.width, largest.height)
    shot = frames.still(binary, source, at_s=at, width=size[0], height=size[1])
    if shot is None:  # past the last frame (a rounded duration): the start is safe
        shot = frames.still(binary, source, at_s=0, width=size[0], height=size[1])
    if shot is None:
        raise ProcessingError("The web version holds no pictures to make a poster from.")
    guard.progress(0.9)
    poster = shot.image()
    thumb = poster.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    sheet = compose_sheet(plan, [t.pixels for t in tiles])
    with scratch_dir(ctx) as scratch:
        files = {
            "poster": (_encode(poster, "JPEG", quality=85), "jpg", "image/jpeg", poster.size),
            "thumb": (_encode(thumb, "WEBP", quality=80), "webp", "image/webp", thumb.size),
            STORYBOARD: (sheet, "jpg", "image/jpeg", plan.sheet_size),
            f"{STORYBOARD}_vtt": (
                storyboard_vtt(plan, duration, STORYBOARD).encode(),
                "vtt",
                "text/vtt",
                (plan.tile_width, plan.tile_height),
            ),
        }
        produced = []
        for name, (data, extension, mime, (width, height)) in files.items():
            temp = scratch / f"{name}.{extension}"
            temp.write_bytes(data)
            produced.append(Produced(name, temp, extension, mime, width, height))

        def record(row: Asset) -> None:
            row.meta = {**(row.meta or {}), "poster_time_s": at}

        publish(ctx, produced, update=record)


class _Encoded:
    """Passes ffmpeg's progress on, and remembers how far the output got."""

    def __init__(self, tick: Callable[[float | None], None]) -> None:
        self.tick = tick
        self.seconds: float | None = None

    def __call__(self, seconds: float | None) -> None:
        if seconds is not None:
            self.seconds = seconds
        self.tick(seconds)


def _measure_loudness(
    ctx: StageContext, binary: str, path: Path, demuxer: str, info: VideoInfo, guard: JobGuard
) -> Loudness | None:
    assert info.audio is not None
    args = commands.loudness_command(binary, path, demuxer=demuxer, audio_index=info.audio.index)
    job = process.Run(
        args=args,
        time_limit_s=limits.time_limit(info.duration_s),
        tick=guard.span(0.02, 0.06, info.duration_s),
        stderr_lines=40,
    )
    try:
        process.run(job)
    except process.FfmpegTimedOut:
        raise _too_long(info.duration_s) from None
    except process.FfmpegFailed as exc:
        # The pass only decodes the sound: when it fails, the sound probably cannot be
        # decoded (ffmpeg 6 and later stop on too many decode errors, 5.1 when no frame
        # came out). The encode tells for sure; until then, no normalisation.
        log.warning(
            "the sound of asset %s could not be measured: %s", ctx.asset_id, exc.tail[-300:]
        )
        raise _SoundUndecodable from None
    return parse_ebur128_summary(job.stderr)


class _SoundUndecodable(Exception):
    pass


def _silent(web_file: Path) -> bool:
    """Whether one of our own web versions came out without a sound track."""
    return probe(web_file, label="MP4").audio is None


def _ffmpeg_run(args: list[str], duration: float, tick: Any) -> None:
    process.run(process.Run(args=args, time_limit_s=limits.time_limit(duration), tick=tick))


def _failure(
    ctx: StageContext, exc: process.FfmpegFailed, duration: float, what: str
) -> ProcessingError:
    """The error people see when ffmpeg could not make `what`."""
    if isinstance(exc, process.FfmpegTimedOut):
        return _too_long(duration)
    _log_failure(ctx, exc, what)
    return ProcessingError(
        N_(
            "The %(what)s could not be made: ffmpeg stopped on an error in the file, which "
            "is probably damaged. The original is kept."
        ),
        params={"what": what},
    )


def _log_failure(ctx: StageContext, exc: process.FfmpegFailed, what: str) -> None:
    log.warning(
        "ffmpeg failed making the %s of asset %s (exit %s): %s",
        what,
        ctx.asset_id,
        exc.returncode,
        exc.tail[-600:],
    )


def _too_long(duration: float) -> ProcessingError:
    return ProcessingError(
        N_plural(
            "Converting took longer than the %(num)s-minute limit for a video of this length, "
            "so it was stopped; the file is probably damaged. The original is kept.",
            "Converting took longer than the %(num)s-minute limit for a video of this length, "
            "so it was stopped; the file is probably damaged. The original is kept.",
        ),
        params={"num": round(limits.time_limit(duration) / 60)},
    )


def _web_renditions(ctx: StageContext) -> tuple[Rendition, Rendition]:
    with ctx.session() as session:
        rows = list(
            session.exec(
                select(Rendition)
                .where(col(Rendition.asset_id) == ctx.asset_id)
                .where(col(Rendition.name).startswith("web_"))
                .order_by(col(Rendition.width) * col(Rendition.height))
            )
        )
    if not rows:
        raise ProcessingError("The web version is missing, so there is no poster to take from it.")
    return rows[0], rows[-1]


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _ffmpeg() -> str:
    binary = ffmpeg_binary()
    if binary is None:
        raise ProcessingError(
            "ffmpeg is not installed on this server, so videos cannot be converted; an "
            "administrator can check with the doctor command."
        )
    return binary
