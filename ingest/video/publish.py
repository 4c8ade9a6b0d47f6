"""Moving finished video renditions into place and recording them, all or nothing.

Files are produced in a scratch directory under data/tmp, then moved next to the asset
under a fresh name and recorded in one transaction that holds the asset row. Readers
never see a row whose file is missing or half written; files replaced by the new ones are
removed after the commit; when the asset was deleted meanwhile, nothing stays behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select

from dam.blobs import hash_file
from dam.clock import now
from dam.jobs import StageContext
from dam.models import Asset, Rendition
from dam.owner import temp_prefix
from ingest.video.guard import Cancelled


@dataclass(frozen=True)
class Produced:
    name: str  # the rendition name (web_720, poster, ...)
    temp: Path
    extension: str
    mime: str
    width: int
    height: int


@contextlib.contextmanager
def scratch_dir(ctx: StageContext) -> Iterator[Path]:
    """A private directory in data/tmp, removed however the stage ends."""
    path = Path(
        tempfile.mkdtemp(dir=ctx.blobs.tmp_dir, prefix=temp_prefix(f"video-{ctx.asset_id}-"))
    )
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def publish(
    ctx: StageContext,
    produced: list[Produced],
    *,
    update: Callable[[Asset], None] | None = None,
) -> None:
    """Move `produced` next to the asset and replace its renditions of the same names."""
    directory = ctx.blobs.derived_dir(ctx.asset_id)
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    placed: list[Path] = []
    stale: list[str] = []
    try:
        rows = []
        for item in produced:
            target = directory / f"{item.name}-{token}.{item.extension}"
            digest, size = hash_file(item.temp), item.temp.stat().st_size
            os.replace(item.temp, target)
            placed.append(target)
            rows.append(
                Rendition(
                    asset_id=ctx.asset_id,
                    name=item.name,
                    mime=item.mime,
                    width=item.width,
                    height=item.height,
                    size=size,
                    sha256=digest,
                    path=str(target.relative_to(ctx.blobs.root)),
                )
            )
        with ctx.session() as session:
            # The row lock makes a concurrent delete wait for this commit (PostgreSQL);
            # SQLite serialises writers already.
            asset = session.exec(
                select(Asset).where(col(Asset.id) == ctx.asset_id).with_for_update()
            ).first()
            if asset is None:
                raise Cancelled("Processing stopped: the asset was deleted.")
            names = [item.name for item in produced]
            for old in session.exec(
                select(Rendition).where(
                    col(Rendition.asset_id) == ctx.asset_id, col(Rendition.name).in_(names)
                )
            ):
                stale.append(old.path)
                session.delete(old)
            session.flush()  # (asset_id, name) is unique: old rows go before new ones
            session.add_all(rows)
            if update is not None:
                update(asset)
            asset.updated_at = now()
            session.commit()
    except BaseException as exc:
        for path in placed:
            path.unlink(missing_ok=True)
        if isinstance(exc, Cancelled):
            ctx.blobs.delete_derived(ctx.asset_id)
        raise
    for relative in stale:
        (ctx.blobs.root / relative).unlink(missing_ok=True)
