"""The library's and collections' tiles: each as wide as its picture's shape, from the
renditions' sizes, and what the lightbox shows when a tile is opened (js/lightbox.js).

The shape is a class per tenth of the aspect ratio (`ar-5`..`ar-25`, tiles.css): the
Content-Security-Policy allows no inline styles. Very tall and very wide pictures are
clamped to 1:2 and 5:2 (their tile crops them, at the face-aware position of
web/ui/grid_focus.py). The lightbox shows only renditions the app displays to everyone who
may see the asset (`preview`, a video's `poster`; and it plays a video's `web_720`, poster
first), through the same gated rendition route as the tile's thumbnail; a video's subtitles
come through the same gated caption route as the asset page's player (video/player.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlmodel import col, select

from dam.models import Caption, Rendition
from web.api.schemas import rendition_url
from web.api.video_schemas import caption_url

MIN_TENTHS, MAX_TENTHS = 5, 25
SQUARE = "ar-10"
# What the lightbox shows of each kind, best first.
VIEWS = {"image": ("preview", "thumb"), "video": ("poster", "thumb")}
# What it plays of a video (its poster first): the web version the asset page's player
# starts with, which the app displays to everyone who may see the asset.
PLAY = "web_720"


@dataclass(frozen=True)
class Tile:
    shape: str  # "ar-15": the tile's aspect ratio in tenths
    width: int | None  # of the thumbnail, for the <img> attributes
    height: int | None
    view_url: str | None  # the larger picture the lightbox shows
    view_width: int | None
    view_height: int | None
    play_url: str | None = None  # a video's web version, played in the lightbox
    captions: tuple[Caption, ...] = field(default=())  # its subtitles, by language

    @property
    def captions_json(self) -> str:
        """The played video's <track>s for the lightbox: [{kind, language, label, url}]."""
        return json.dumps(
            [
                {
                    "kind": c.kind,
                    "language": c.language,
                    "label": c.label,
                    "url": caption_url(c.asset_id, c.language),
                }
                for c in self.captions
            ]
        )


def tile_shape(width: int | None, height: int | None) -> str:
    """The shape class of a picture of `width` x `height` (square when unknown)."""
    if not width or not height or width <= 0 or height <= 0:
        return SQUARE
    tenths = round(width * 10 / height)
    return f"ar-{min(max(tenths, MIN_TENTHS), MAX_TENTHS)}"


def card_tiles(request: Request, items: Iterable[Any]) -> dict[str, Tile]:
    """{asset id: tile} for the assets on a page of the grid (one query for all of them)."""
    assets = {a.id: a for a in items}
    session = getattr(request.state, "db", None)
    if not assets or session is None:  # a page rendered without the request's session
        return {}
    names = {PLAY, *(name for views in VIEWS.values() for name in views)}
    found: dict[str, dict[str, Rendition]] = {}
    for rendition in session.exec(
        select(Rendition).where(
            col(Rendition.asset_id).in_(list(assets)), col(Rendition.name).in_(names)
        )
    ):
        found.setdefault(rendition.asset_id, {})[rendition.name] = rendition
    played = [i for i, a in assets.items() if str(a.kind) == "video" and PLAY in found.get(i, {})]
    captions: dict[str, list[Caption]] = {}
    if played:
        for caption in session.exec(
            select(Caption).where(col(Caption.asset_id).in_(played)).order_by(col(Caption.language))
        ):
            captions.setdefault(caption.asset_id, []).append(caption)
    tiles = {}
    for asset_id, asset in assets.items():
        made = found.get(asset_id, {})
        thumb = made.get("thumb")
        width, height = (thumb.width, thumb.height) if thumb else (asset.width, asset.height)
        view = next((made[n] for n in VIEWS.get(str(asset.kind), ()) if n in made), None)
        tiles[asset_id] = Tile(
            shape=tile_shape(width, height),
            width=width,
            height=height,
            view_url=rendition_url(asset_id, view.name) if view else None,
            view_width=view.width if view else None,
            view_height=view.height if view else None,
            play_url=rendition_url(asset_id, PLAY) if asset_id in played else None,
            captions=tuple(captions.get(asset_id, ())),
        )
    return tiles
