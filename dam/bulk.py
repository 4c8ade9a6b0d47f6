"""Actions on many assets at once (the library's multi-select), built on dam.assets."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from dam import assets
from dam.blobs import BlobStore
from dam.errors import InvalidInput, N_plural, NotFound
from dam.models import User
from dam.models.assets import Asset

MAX_SELECTION = 500


def _selection(asset_ids: Iterable[str]) -> list[str]:
    ids = list(dict.fromkeys(a for a in asset_ids if a))
    if not ids:
        raise InvalidInput("Select one or more assets first.")
    if len(ids) > MAX_SELECTION:
        raise InvalidInput(
            N_plural(
                "Select at most %(num)s asset at once.", "Select at most %(num)s assets at once."
            ),
            params={"num": MAX_SELECTION},
        )
    return ids


def add_tags(session: Session, *, asset_ids: Iterable[str], tags: list[str], actor: User) -> int:
    """Add `tags` to every selected asset that exists (keeping its own); return how many."""
    new = assets.normalise_tags(tags)
    if not new:
        raise InvalidInput("Type one or more tags, separated by commas.")
    changed = 0
    for asset_id in _selection(asset_ids):
        if session.get(Asset, asset_id) is None:
            continue
        merged = assets.tags_of(session, asset_id) + new
        data = assets.AssetUpdate.model_validate({"tags": merged[: assets.MAX_TAGS]})
        assets.update_asset(session, asset_id=asset_id, data=data, actor=actor)
        changed += 1
    return changed


def delete_assets(
    session: Session, *, asset_ids: Iterable[str], actor: User, blobs: BlobStore
) -> int:
    """Delete every selected asset that still exists; return how many went."""
    deleted = 0
    for asset_id in _selection(asset_ids):
        try:
            assets.delete_asset(session, asset_id=asset_id, actor=actor, blobs=blobs)
        except NotFound:
            continue  # deleted by someone else meanwhile: the wish is fulfilled
        deleted += 1
    return deleted
