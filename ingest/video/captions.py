"""Captions of a video: add (WebVTT or SRT, per language), list, read, remove, and the
web version with its captions built in for downloads."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from dam import audit, events
from dam.assets import get_asset, get_rendition
from dam.blobs import BlobStore
from dam.clock import now
from dam.errors import N_, Conflict, InvalidInput, NotFound
from dam.models import AssetKind, Caption, Rendition, User
from dam.owner import temp_prefix
from dam.presets import web_versions_down_from
from ingest.ffmpeg import ffmpeg_binary
from ingest.video import commands, cues, limits, process

# BCP 47 as people use it for subtitles: a language, then optional region or script.
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$")
KINDS = ("subtitles", "captions")  # captions: for people who cannot hear the sound
# Names players show; other languages show their tag until someone names them.
LANGUAGE_NAMES = {
    "nl": "Nederlands", "nl-be": "Nederlands (België)", "en": "English", "fr": "Français",
    "de": "Deutsch", "es": "Español", "it": "Italiano", "ar": "العربية", "tr": "Türkçe",
    "pl": "Polski", "uk": "Українська",
}  # fmt: skip


# MP4 tracks name their language in ISO 639-2 (bibliographic, three letters); ffmpeg's
# muxer drops two-letter codes, so the common ones are mapped here.
_ISO639_2 = {
    "nl": "dut", "en": "eng", "fr": "fre", "de": "ger", "es": "spa", "it": "ita", "pt": "por",
    "da": "dan", "sv": "swe", "no": "nor", "fi": "fin", "pl": "pol", "cs": "cze", "sk": "slo",
    "hu": "hun", "ro": "rum", "bg": "bul", "el": "gre", "tr": "tur", "ar": "ara", "ru": "rus",
    "uk": "ukr", "zh": "chi", "ja": "jpn", "ko": "kor", "he": "heb", "fa": "per", "hi": "hin",
    "lt": "lit", "lv": "lav", "et": "est", "sl": "slv", "hr": "hrv", "sr": "srp", "ga": "gle",
    "mt": "mlt", "lb": "ltz", "ca": "cat", "eu": "baq", "gl": "glg", "is": "ice", "sq": "alb",
}  # fmt: skip


def mp4_language(tag: str) -> str:
    """The ISO 639-2 code of a BCP 47 tag ('nl-BE' -> 'dut'; 'und' when unknown)."""
    base = tag.split("-")[0].lower()
    return base if len(base) == 3 else _ISO639_2.get(base, "und")


@dataclass(frozen=True)
class CaptionFile:
    data: bytes
    mime: str
    filename: str


def normalise_language(value: str) -> str:
    """'NL-be' -> 'nl-BE'; InvalidInput unless it is a language tag."""
    parts = value.strip().replace("_", "-").split("-")
    tag = "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])
    if not _LANGUAGE.match(tag):
        raise InvalidInput(
            N_("%(value)r is not a language code. Use a code such as nl, en, fr or nl-BE."),
            params={"value": value.strip()[:40]},
        )
    return tag


def read_caption_file(data: bytes) -> tuple[list[cues.Cue], str]:
    """The cues and the format ('vtt' or 'srt') of an uploaded caption file."""
    head = data.lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"WEBVTT"):
        return cues.parse_webvtt(data), "vtt"
    if head[:1].isdigit():
        return cues.parse_srt(data), "srt"
    raise cues.CaptionError(
        "This is not a caption file: a WebVTT file starts with WEBVTT, an SRT file with "
        "the number of its first cue."
    )


def add_caption(
    session: Session,
    *,
    asset_id: str,
    language: str,
    data: bytes,
    actor: User,
    label: str | None = None,
    kind: str = "subtitles",
) -> tuple[Caption, bool]:
    """Add (or replace) the captions in `language`; SRT is converted to WebVTT.
    Returns the captions and whether they are new (not a replacement)."""
    asset = get_asset(session, asset_id)
    if asset.kind != AssetKind.video:
        raise InvalidInput("Captions belong to videos; this asset is a photo.")
    tag = normalise_language(language)
    if kind not in KINDS:
        raise InvalidInput("The kind of captions is 'subtitles' or 'captions'.")
    parsed, source_format = read_caption_file(data)
    text = cues.to_webvtt(parsed)
    name = (label or "").strip()[:100] or LANGUAGE_NAMES.get(tag.lower(), tag)
    caption = session.exec(
        select(Caption).where(Caption.asset_id == asset_id, Caption.language == tag)
    ).first()
    created = caption is None
    if caption is None:
        caption = Caption(
            asset_id=asset_id,
            language=tag,
            label=name,
            source_format=source_format,
            vtt=text,
            cue_count=len(parsed),
            sha256="",
        )
        session.add(caption)
    caption.label, caption.kind, caption.source_format = name, kind, source_format
    caption.vtt, caption.cue_count = text, len(parsed)
    caption.sha256 = hashlib.sha256(text.encode()).hexdigest()
    caption.created_by, caption.updated_at = actor.id, now()
    audit.record(
        session,
        action="caption.added",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset_id,
        details={"language": tag, "cues": len(parsed), "format": source_format},
    )
    events.publish_after_commit(session, events.AssetChanged(asset_id=asset_id))
    session.commit()
    return caption, created


def list_captions(session: Session, asset_id: str) -> list[Caption]:
    get_asset(session, asset_id)
    return list(
        session.exec(
            select(Caption).where(Caption.asset_id == asset_id).order_by(col(Caption.language))
        )
    )


def get_caption(session: Session, asset_id: str, language: str) -> Caption:
    tag = normalise_language(language)
    caption = session.exec(
        select(Caption).where(Caption.asset_id == asset_id, Caption.language == tag)
    ).first()
    if caption is None:
        get_asset(session, asset_id)
        raise NotFound(N_("This video has no captions in %(language)s."), params={"language": tag})
    return caption


def delete_caption(session: Session, *, asset_id: str, language: str, actor: User) -> None:
    caption = get_caption(session, asset_id, language)
    session.delete(caption)
    audit.record(
        session,
        action="caption.removed",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset_id,
        details={"language": caption.language},
    )
    events.publish_after_commit(session, events.AssetChanged(asset_id=asset_id))
    session.commit()


def caption_file(caption: Caption, *, fmt: str = "vtt") -> CaptionFile:
    """The captions as WebVTT (for <track>) or SRT (for editors and social media)."""
    stem = f"{caption.asset_id}.{caption.language}"
    if fmt == "srt":
        srt = cues.to_srt(cues.parse_webvtt(caption.vtt.encode()))
        return CaptionFile(srt.encode(), "application/x-subrip", f"{stem}.srt")
    if fmt != "vtt":
        raise InvalidInput("Captions come as vtt or srt.")
    return CaptionFile(caption.vtt.encode(), "text/vtt", f"{stem}.vtt")


def _web_version(session: Session, asset_id: str, name: str) -> Rendition:
    """The web version `name`, or the next smaller one the video has."""
    names = web_versions_down_from(name)
    found = {
        r.name: r
        for r in session.exec(
            select(Rendition).where(Rendition.asset_id == asset_id, col(Rendition.name).in_(names))
        )
    }
    for candidate in names:
        if candidate in found:
            return found[candidate]
    return get_rendition(session, asset_id, name)  # its NotFound


def captioned_video(
    session: Session, blobs: BlobStore, *, asset_id: str, rendition: str, languages: list[str]
) -> Path:
    """A copy of a web rendition with the chosen captions as MP4 text tracks (the video
    and sound are copied, not re-encoded). The caller deletes the file after sending it."""
    if not rendition.startswith("web_"):
        raise InvalidInput("Captions can be built into the web versions (web_720, web_1080).")
    source = blobs.root / _web_version(session, asset_id, rendition).path
    chosen = [get_caption(session, asset_id, language) for language in languages]
    if not chosen:
        chosen = list_captions(session, asset_id)
    binary = ffmpeg_binary()
    if binary is None:
        raise InvalidInput("ffmpeg is not installed on this server.")
    scratch = Path(tempfile.mkdtemp(dir=blobs.tmp_dir, prefix=temp_prefix("captioned-")))
    try:
        tracks = []
        for caption in chosen:
            path = scratch / f"{caption.language}.vtt"
            path.write_text(caption.vtt, encoding="utf-8")
            tracks.append((mp4_language(caption.language), path))
        target = scratch / "captioned.mp4"
        try:
            process.run(
                process.Run(
                    args=commands.captioned_command(binary, source, tracks, target),
                    time_limit_s=limits.TIME_LIMIT_BASE_S,
                )
            )
        except process.FfmpegFailed:
            raise Conflict(
                "The captions could not be built into the video; download them separately."
            ) from None
        descriptor, name = tempfile.mkstemp(
            dir=blobs.tmp_dir, prefix=temp_prefix("captioned-"), suffix=".mp4"
        )
        os.close(descriptor)
        target.replace(name)
        return Path(name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
