"""Assets shown as the library's tiles (_cards.html) outside a library result set: a
person's photos and videos, the privacy dashboard's assets to review.

_cards.html reads a result page: its items, where each tile links to, and a line under a
tile. `TilePage` gives it those for a plain list, so there is one tile markup for the
library, collections, people and the dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from dam.models import Asset


@dataclass(frozen=True)
class TileLinks:
    """Where a tile leads: `{id}` in `pattern` becomes the asset's id."""

    pattern: str = "/assets/{id}"

    def asset_url(self, asset_id: str, index: int) -> str:
        return self.pattern.format(id=asset_id)


@dataclass(frozen=True)
class TilePage:
    items: Sequence[Asset]
    links: TileLinks = TileLinks()
    notes: Mapping[str, str] = field(default_factory=dict)  # {asset id: the line under it}
    first_index: int = 0

    @property
    def query(self) -> TileLinks:
        return self.links

    def marked_title(self, asset: Asset) -> Markup | None:
        return None

    def snippet(self, asset: Asset) -> tuple[str, Markup] | None:
        note = self.notes.get(asset.id)
        return ("note", Markup.escape(note)) if note else None
