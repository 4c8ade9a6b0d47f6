"""What a player needs to play a video: sources, poster, storyboard and caption tracks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from dam.assets import get_asset, renditions_of
from dam.errors import InvalidInput
from dam.models import AssetKind, Caption, Rendition
from ingest.video.captions import list_captions


@dataclass(frozen=True)
class Playback:
    asset_id: str
    status: str
    duration_s: float | None
    width: int | None
    height: int | None
    sources: list[Rendition]  # web versions, smallest first
    poster: Rendition | None
    storyboard: Rendition | None  # the sprite sheet
    storyboard_index: Rendition | None  # its WebVTT
    captions: list[Caption]


def playback_for(session: Session, asset_id: str) -> Playback:
    """The playable parts of a video (some may still be missing while it is processed)."""
    asset = get_asset(session, asset_id)
    if asset.kind != AssetKind.video:
        raise InvalidInput("This asset is a photo; only videos play.")
    made = {r.name: r for r in renditions_of(session, asset_id)}
    sources = sorted(
        (r for name, r in made.items() if name.startswith("web_")),
        key=lambda r: r.width * r.height,
    )
    return Playback(
        asset_id=asset.id,
        status=asset.status,
        duration_s=asset.duration_s,
        width=asset.width,
        height=asset.height,
        sources=sources,
        poster=made.get("poster"),
        storyboard=made.get("storyboard"),
        storyboard_index=made.get("storyboard_vtt"),
        captions=list_captions(session, asset_id),
    )
