"""What a video player gets (the playback and caption shapes of API.md): shared by the
API's routes and the UI's player, so neither imports the other's routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session

from dam.models import Caption, Rendition
from ingest.video.playback import playback_for
from web.api.schemas import rendition_url


class CaptionPublic(BaseModel):
    language: str
    label: str
    kind: str
    cues: int
    source_format: str
    url: str
    srt_url: str
    updated_at: datetime


class SourcePublic(BaseModel):
    name: str
    mime: str
    width: int
    height: int
    url: str


class StoryboardPublic(BaseModel):
    image_url: str
    vtt_url: str


class PlaybackPublic(BaseModel):
    id: str
    status: str
    duration_s: float | None
    width: int | None
    height: int | None
    sources: list[SourcePublic]
    poster_url: str | None
    storyboard: StoryboardPublic | None
    captions: list[CaptionPublic]


def caption_url(asset_id: str, language: str) -> str:
    return f"/api/v1/assets/{asset_id}/captions/{language}"


def caption_public(caption: Caption) -> CaptionPublic:
    url = caption_url(caption.asset_id, caption.language)
    return CaptionPublic(
        language=caption.language,
        label=caption.label,
        kind=caption.kind,
        cues=caption.cue_count,
        source_format=caption.source_format,
        url=url,
        srt_url=f"{url}?format=srt",
        updated_at=caption.updated_at,
    )


def _url(rendition: Rendition | None) -> str | None:
    return rendition_url(rendition.asset_id, rendition.name) if rendition else None


def _source(r: Rendition) -> SourcePublic:
    url = rendition_url(r.asset_id, r.name)
    return SourcePublic(name=r.name, mime=r.mime, width=r.width, height=r.height, url=url)


def playback_public(session: Session, asset_id: str) -> PlaybackPublic:
    """The player's data (templates/video/player.html renders it, the API returns it)."""
    play = playback_for(session, asset_id)
    storyboard = None
    if play.storyboard and play.storyboard_index:
        storyboard = StoryboardPublic(
            image_url=_url(play.storyboard) or "", vtt_url=_url(play.storyboard_index) or ""
        )
    return PlaybackPublic(
        id=play.asset_id,
        status=play.status,
        duration_s=play.duration_s,
        width=play.width,
        height=play.height,
        sources=[_source(r) for r in play.sources],
        poster_url=_url(play.poster),
        storyboard=storyboard,
        captions=[caption_public(c) for c in play.captions],
    )
