"""Turn a stored original into an asset (or find the asset that already holds it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

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
) -> Received:
    """Create the library asset for `stored` and schedule its pipeline; same content ->
    the existing library asset.

    Only library assets are compared: consent evidence with the same bytes is a separate
    asset (ingest.evidence) that an upload must neither find nor reveal. Every library
    asset is visible to everyone who may upload, so a duplicate answer tells nothing new."""
    existing = _library_asset(session, stored.sha256)
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
    )
    session.add(asset)
    try:
        session.flush()
    except IntegrityError:
        # The same content arrived twice at once; the other upload won the race.
        session.rollback()
        winner = _library_asset(session, stored.sha256)
        assert winner is not None
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


def _library_asset(session: Session, sha256: str) -> Asset | None:
    query = select(Asset).where(Asset.sha256 == sha256, col(Asset.is_evidence).is_(False))
    return session.exec(query).first()
