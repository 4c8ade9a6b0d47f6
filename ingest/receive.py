"""Turn a stored original into an asset (or find the asset that already holds it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from dam import audit, events, jobs
from dam.assets import set_tags
from dam.blobs import StoredBlob
from dam.models import Asset, User
from ingest.filenames import MAX_FILENAME_BYTES, normalize_filename
from ingest.sniff import Sniffed


@dataclass(frozen=True)
class Received:
    asset: Asset
    duplicate: bool


def clean_filename(name: str | None) -> str:
    """The name to store: normalised, cut to the byte limit (uploads were refused above it)."""
    base = normalize_filename(name or "").encode("utf-8")[:MAX_FILENAME_BYTES]
    return base.decode("utf-8", "ignore").strip() or "upload"


def create_asset(
    session: Session,
    *,
    stored: StoredBlob,
    sniffed: Sniffed,
    filename: str | None,
    owner: User | None,
    title: str = "",
    description: str = "",
    tags: list[str] | None = None,
    source: str = "upload",
    restricted: bool = False,
) -> Received:
    """Create the asset for `stored` and schedule its pipeline; same content -> existing asset.

    `restricted` (consent evidence) holds from the first commit, so the asset never shows
    to roles that may not see it, not even for the moment before a consent names it."""
    existing = session.exec(select(Asset).where(Asset.sha256 == stored.sha256)).first()
    if existing is not None:
        return Received(existing, duplicate=True)
    asset = Asset(
        kind=sniffed.kind,
        filename=clean_filename(filename),
        mime=sniffed.mime,
        size=stored.size,
        sha256=stored.sha256,
        title=title.strip()[:500],
        description=description.strip(),
        owner_id=owner.id if owner else None,
        restricted=restricted,
    )
    session.add(asset)
    try:
        session.flush()
    except IntegrityError:
        # The same content arrived twice at once; the other upload won the race.
        session.rollback()
        winner = session.exec(select(Asset).where(Asset.sha256 == stored.sha256)).one()
        return Received(winner, duplicate=True)
    if tags:
        set_tags(session, asset.id, tags)
    audit.record(
        session,
        action="asset.uploaded",
        actor_id=owner.id if owner else None,
        subject_type="asset",
        subject_id=asset.id,
        details={"sha256": stored.sha256, "size": stored.size, "source": source},
    )
    jobs.start_pipeline(session, asset)
    events.publish_after_commit(session, events.AssetStored(asset_id=asset.id))
    session.commit()
    return Received(asset, duplicate=False)
