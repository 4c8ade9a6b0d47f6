"""VideoInfo: what the probe learnt about a video, checked against what we accept.

`video_info` is pure: it turns the probe child's plain facts into a VideoInfo, or raises
ProcessingError with a message for people when the file is not a video we can process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from typing import Any

from dam.errors import N_, MessageId, N_plural, ProcessingError
from ingest.video import limits
from ingest.video.display import display_size, orientation_from_matrix
from ingest.video.formats import AUDIO_CODECS, VIDEO_CODECS
from ingest.video.framerate import frame_rate
from ingest.video.tags import CaptureTags, read_tags

# AVFieldOrder values for interlaced material (top/bottom field first, either coding).
_INTERLACED_ORDERS = {2, 3, 4, 5}
# AVColorTransferCharacteristic: SMPTE ST 2084 (PQ) and ARIB STD-B67 (HLG) are HDR.
_HDR_TRANSFERS = {16: "pq", 18: "hlg"}


@dataclass(frozen=True)
class AudioInfo:
    index: int  # the stream's position in the file (what ffmpeg maps)
    codec: str
    channels: int
    sample_rate: int | None
    bit_rate: int | None


@dataclass(frozen=True)
class VideoInfo:
    container: str
    duration_s: float
    width: int  # as coded
    height: int
    display_width: int  # as shown: pixel shape and rotation applied
    display_height: int
    rotation: int
    mirrored: bool
    sar: Fraction
    fps: float | None
    variable_frame_rate: bool
    codec: str
    profile: str | None
    pix_fmt: str | None
    bit_depth: int
    hdr: str | None  # "pq" or "hlg"
    interlaced: bool
    bit_rate: int | None
    audio: AudioInfo | None
    tags: CaptureTags
    # Why the file's sound is not in the web versions, when it has sound we cannot take.
    audio_note: str | None = None
    # Every sound track we can take, `audio` (the web versions' sound) first: a blurred
    # original keeps them all (a second language, a commentary).
    audio_tracks: tuple[AudioInfo, ...] = ()
    xmp: str | None = None  # the container's XMP packet (MP4/QuickTime), as the file has it

    def facts(self) -> dict[str, Any]:
        """The technical facts as JSON for the asset's metadata."""
        return {
            "container": self.container,
            "codec": self.codec,
            "codec_name": VIDEO_CODECS.get(self.codec, self.codec),
            "profile": self.profile,
            "pix_fmt": self.pix_fmt,
            "bit_depth": self.bit_depth,
            "hdr": self.hdr,
            "interlaced": self.interlaced,
            "coded_width": self.width,
            "coded_height": self.height,
            "sample_aspect_ratio": f"{self.sar.numerator}:{self.sar.denominator}",
            "rotation": self.rotation,
            "mirrored": self.mirrored,
            "fps": self.fps,
            "variable_frame_rate": self.variable_frame_rate,
            "bit_rate": self.bit_rate,
            "audio": asdict(self.audio) if self.audio else None,
            "audio_note": self.audio_note,
        }

    def without_audio(self, note: str) -> VideoInfo:
        """The same video with its sound left out, and why."""
        return replace(self, audio=None, audio_note=note, audio_tracks=())


def video_info(raw: dict[str, Any], *, label: str) -> VideoInfo:
    """Check and interpret the probe child's output for a file sniffed as `label`."""
    if raw.get("error"):
        raise _unreadable(label, str(raw.get("detail") or ""))
    streams = raw.get("streams") or []
    videos = [s for s in streams if s.get("type") == "video" and not s.get("attached_pic")]
    audios = [s for s in streams if s.get("type") == "audio"]
    if not videos:
        if audios:
            raise ProcessingError(
                "This file holds only sound, no pictures. Beeldbank keeps photos and videos; "
                "to publish a recording, add it to a video first."
            )
        raise ProcessingError(
            N_("This %(label)s file holds no video track."), params={"label": label}
        )
    video = videos[0]
    codec = str(video.get("codec") or "")
    if codec not in VIDEO_CODECS:
        accepted = ", ".join(VIDEO_CODECS.values())
        params = {"codec": codec.upper(), "accepted": accepted}
        if not codec:
            raise ProcessingError(
                N_(
                    "The video is encoded in an unknown format, which Beeldbank does not "
                    "accept. Convert it first; accepted are %(accepted)s."
                ),
                params=params,
            )
        raise ProcessingError(
            N_(
                "The video is encoded as %(codec)s, which Beeldbank does not accept. Convert "
                "it first; accepted are %(accepted)s."
            ),
            params=params,
        )
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise ProcessingError(
            "The video track does not say how large its pictures are; the file is damaged."
        )
    if max(width, height) > limits.MAX_EDGE_PX or width * height > limits.MAX_PIXELS:
        raise ProcessingError(
            N_(
                "The video is %(width)s × %(height)s pixels. Beeldbank takes videos up to 8K "
                "(%(max)s pixels on the longest side)."
            ),
            params={"width": width, "height": height, "max": limits.MAX_EDGE_PX},
        )
    scan = raw.get("scan") or {}
    if scan.get("error"):
        raise _unreadable(label, str(scan.get("detail") or ""))
    if not scan.get("packets"):
        raise ProcessingError("The video track holds no pictures (0 frames).")
    first = scan.get("first_frame")
    if first is None:
        raise ProcessingError(
            N_(
                "None of the video's first pictures could be decoded: the file is damaged, or "
                "it uses a variant of %(codec)s that Beeldbank cannot read."
            ),
            params={"codec": VIDEO_CODECS[codec]},
        )
    duration = _duration(raw, video, scan)
    sar = _sar(video.get("sar"))
    orientation = orientation_from_matrix(first.get("display_matrix"))
    display_w, display_h = display_size(width, height, sar, orientation)
    rate = frame_rate(scan.get("pts") or [], _declared_rate(video.get("rate")))
    pix_fmt = first.get("pix_fmt") or video.get("pix_fmt")
    return VideoInfo(
        container=str(raw.get("format") or ""),
        duration_s=duration,
        width=width,
        height=height,
        display_width=display_w,
        display_height=display_h,
        rotation=orientation.rotation,
        mirrored=orientation.mirrored,
        sar=sar,
        fps=rate.fps,
        variable_frame_rate=rate.variable,
        codec=codec,
        profile=str(video["profile"]) if video.get("profile") else None,
        pix_fmt=pix_fmt,
        bit_depth=_bit_depth(pix_fmt),
        hdr=_HDR_TRANSFERS.get(video.get("color_trc") or 0),
        interlaced=bool(first.get("interlaced"))
        or (video.get("field_order") or 0) in _INTERLACED_ORDERS,
        bit_rate=raw.get("bit_rate") or video.get("bit_rate"),
        audio=_audio(audios),
        tags=read_tags(raw.get("tags") or {}, video.get("tags") or {}),
        audio_note=_audio_note(audios),
        audio_tracks=_audio_tracks(audios),
        xmp=raw["xmp"] if isinstance(raw.get("xmp"), str) else None,
    )


def _duration(raw: dict[str, Any], video: dict[str, Any], scan: dict[str, Any]) -> float:
    candidates = [raw.get("duration_s"), video.get("duration_s")]
    stamps = scan.get("pts") or []
    if len(stamps) > 1:
        candidates.append(max(stamps) - min(stamps))
    duration = next((float(d) for d in candidates if d and d > 0), None)
    if duration is None:
        raise ProcessingError("The video has no length: it holds at most one picture.")
    if scan.get("complete") and len(stamps) > 1:
        # The probe read every picture. A header that claims far less than their times
        # span is wrong: a bare MPEG stream estimates its length from a bit rate that old
        # encoders set to "variable" (0x3FFFF).
        span = max(stamps) - min(stamps) + _frame_interval(stamps)
        if duration < span / 2:
            duration = span
    if duration > limits.MAX_DURATION_S and scan.get("complete") and len(stamps) > 1:
        # The header lies, but the probe read every picture: their times are the length.
        duration = max(stamps) - min(stamps) + _frame_interval(stamps)
    if duration > limits.MAX_DURATION_S:
        message, count = _too_long(duration)
        raise ProcessingError(message, params={"num": count})
    return round(duration, 3)


def _frame_interval(stamps: list[float]) -> float:
    ordered = sorted(stamps)
    return (ordered[-1] - ordered[0]) / (len(ordered) - 1)


def _audio(audios: list[dict[str, Any]]) -> AudioInfo | None:
    tracks = _audio_tracks(audios)
    return tracks[0] if tracks else None


def _audio_tracks(audios: list[dict[str, Any]]) -> tuple[AudioInfo, ...]:
    """The sound tracks in a codec we take and with a readable header, in file order."""
    tracks = []
    for stream in audios:
        codec = str(stream.get("codec") or "")
        channels = int(stream.get("channels") or 0)
        if codec in AUDIO_CODECS and channels > 0:
            tracks.append(
                AudioInfo(
                    index=int(stream.get("index") or 0),
                    codec=codec,
                    channels=channels,
                    sample_rate=stream.get("sample_rate"),
                    bit_rate=stream.get("bit_rate"),
                )
            )
    return tuple(tracks)


def _audio_note(audios: list[dict[str, Any]]) -> str | None:
    """What to tell people when the file has sound that Beeldbank leaves out."""
    if not audios or _audio(audios) is not None:
        return None
    codec = str(audios[0].get("codec") or "")
    if codec in AUDIO_CODECS:  # a codec we take, but its header is unreadable
        return AUDIO_UNDECODABLE
    codec = codec.upper() or "an unknown format"
    return (
        f"The sound is encoded as {codec}, which Beeldbank cannot read; the web versions "
        "have no sound. The original keeps it."
    )


AUDIO_UNDECODABLE = (
    "The sound could not be decoded (it is damaged or in a variant Beeldbank cannot read); "
    "the web versions have no sound. The original keeps it."
)


def _sar(value: Any) -> Fraction:
    try:
        sar = Fraction(int(value[0]), int(value[1]))
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return Fraction(1)
    # Anything outside 1:4..4:1 is a broken header, not a real pixel shape.
    return sar if Fraction(1, 4) <= sar <= 4 else Fraction(1)


def _declared_rate(value: Any) -> float | None:
    try:
        rate = Fraction(int(value[0]), int(value[1]))
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    return round(float(rate), 3) if 0 < rate <= 1000 else None


def _bit_depth(pix_fmt: str | None) -> int:
    for depth in (16, 14, 12, 10, 9):
        if pix_fmt and f"p{depth}" in pix_fmt:
            return depth
    return 8


def _too_long(seconds: float) -> tuple[MessageId, int]:
    """The refusal of an absurd length, counted in the unit that reads best (a count with
    its plural form in each language, never a unit word built in code)."""
    days = seconds / 86400
    if days >= 365:
        message = N_plural(
            "The file claims to last %(num)s year. Beeldbank takes videos up to 24 hours; "
            "this file is probably damaged.",
            "The file claims to last %(num)s years. Beeldbank takes videos up to 24 hours; "
            "this file is probably damaged.",
        )
        return message, round(days / 365)
    if days >= 2:
        message = N_plural(
            "The file claims to last %(num)s day. Beeldbank takes videos up to 24 hours; "
            "this file is probably damaged.",
            "The file claims to last %(num)s days. Beeldbank takes videos up to 24 hours; "
            "this file is probably damaged.",
        )
        return message, round(days)
    message = N_plural(
        "The file claims to last %(num)s hour. Beeldbank takes videos up to 24 hours; "
        "this file is probably damaged.",
        "The file claims to last %(num)s hours. Beeldbank takes videos up to 24 hours; "
        "this file is probably damaged.",
    )
    return message, round(seconds / 3600)


_KNOWN_READ_ERRORS = {
    "moov atom not found": N_(
        "its index (the moov atom) is missing, which happens when a recording was "
        "interrupted or an upload was cut short"
    ),
    "invalid data found when processing input": N_(
        "its contents do not match the format it starts with"
    ),
    "end of file": N_("it ends too early"),
}


def _unreadable(label: str, detail: str) -> ProcessingError:
    reason = next(
        (text for key, text in _KNOWN_READ_ERRORS.items() if key in detail.lower()),
        N_("it is damaged or incomplete"),
    )
    return ProcessingError(
        N_("The file could not be read as %(label)s video: %(reason)s. The original is kept."),
        params={"label": label, "reason": reason},
    )
