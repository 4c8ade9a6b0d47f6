"""What every pipeline stage starts from: the asset row, its original's path, its format."""

from __future__ import annotations

from pathlib import Path

from dam.errors import ProcessingError
from dam.jobs import StageContext
from dam.models import Asset
from ingest.sniff import HEAD_BYTES, sniff


def load_original(ctx: StageContext) -> tuple[Asset, Path, str]:
    """The stage's asset, the path of its original and what a person calls its format."""
    with ctx.session() as session:
        asset = session.get(Asset, ctx.asset_id)
    if asset is None:
        raise ProcessingError("The asset was deleted while it was being processed.")
    path = ctx.blobs.original_path(asset.sha256)
    if not path.exists():
        raise ProcessingError(
            "The original file is missing from storage; an administrator can run `dam check`."
        )
    with path.open("rb") as fh:
        label = sniff(fh.read(HEAD_BYTES)).label
    return asset, path, label
