"""Grid thumbnails that keep heads: the library's square tiles cover their cell with the
picture (CSS `object-fit: cover`), and show the part the face-aware crop of dam/crops.py
chooses instead of the middle (a standing man's head, not his torso).

The position is a class per tenth along the axis that overflows (`fx-0`..`fx-10` for
landscape pictures, `fy-0`..`fy-10` for portrait ones; app.css): the Content-Security-
Policy allows no inline styles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from sqlmodel import col, select

from dam import crops
from dam.models import Face, FaceState


def card_focus(request: Request, items: Iterable[Any]) -> dict[str, str]:
    """{asset id: focus class} for the photos among `items` that have faces."""
    photos = {a.id: a for a in items if a.kind == "image" and a.width and a.height}
    if not photos:
        return {}
    boxes: dict[str, list[crops.Box]] = defaultdict(list)
    session = getattr(request.state, "db", None)
    if session is None:  # a page rendered without the request's session: centred
        return {}
    rows = session.exec(
        select(Face).where(col(Face.asset_id).in_(list(photos)), Face.state != FaceState.dismissed)
    ).all()
    for f in rows:
        boxes[f.asset_id].append(crops.Box(f.box_x, f.box_y, f.box_w, f.box_h))
    found: dict[str, str] = {}
    for asset_id, faces in boxes.items():
        asset = photos[asset_id]
        crop = crops.face_crop(asset.width, asset.height, 1.0, faces)
        if crop is None:
            continue
        fx, fy = crops.focus(crop)
        axis, value = ("fx", fx) if asset.width > asset.height else ("fy", fy)
        step = round(value / 10)
        if step != 5:
            found[asset_id] = f"{axis}-{step}"
    return found
