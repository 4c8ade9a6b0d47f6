"""Turn a stored original into an asset (or find the asset that already holds it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dam import audit, events, jobs
from dam.assets import set_tags
from dam.blobs import StoredBlob
from dam.errors import N_, InvalidInput, TooLarge
from dam.models import Asset, LicenceStatus, User
from dam.sizes import Size
from ingest.filenames import MAX_FILENAME_BYTES, normalize_filename
from ingest.sniff import Sniffed


@dataclass(frozen=True)
class Received:
    asset: Asset
    duplicate: bool


def over_upload_limit(limit: int) -> TooLarge:
    """The 413 for a file larger than the upload limit (`limit` bytes)."""
    return TooLarge(
        N_("The file is larger than the upload limit of %(limit)s."),
        params={"limit": Size(limit)},
    )


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
    licence_status: LicenceStatus | None = None,
    licence: dict[str, Any] | None = None,
    alt_text: str = "",
    meta: dict[str, Any] | None = None,
) -> Received:
    """Create the library asset for `stored` and schedule its pipeline; same content ->
    the existing library asset.

    Only library assets are compared: consent evidence with the same bytes is a separate
    asset (ingest.evidence) that an upload must neither find nor reveal. Every library
    asset is visible to everyone who may upload, so a duplicate answer tells nothing new."""
    existing = _library_asset(session, stored.sha256)
    if existing is not None:
        return Received(existing, duplicate=True)
    status, record = licence_for(owner, licence_status, licence)
    asset = Asset(
        kind=sniffed.kind,
        filename=clean_filename(filename),
        mime=sniffed.mime,
        size=stored.size,
        sha256=stored.sha256,
        title=title.strip()[:500],
        description=description.strip(),
        alt_text=alt_text.strip()[:1000],
        meta=dict(meta or {}),
        owner_id=owner.id if owner else None,
        licence_status=status,
        licence=record,
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


# What an upload (multipart field or tus metadata key) may say about its licence, for
# every file of a batch: the status and the record's fields.
LICENCE_UPLOAD_FIELDS = {"credit": "credit", "licence_source": "source", "licence_terms": "terms"}


def upload_licence(fields: Mapping[str, str]) -> tuple[LicenceStatus | None, dict[str, Any]]:
    """The licence an upload's fields give (status None: the uploader's default applies)."""
    raw = (fields.get("licence_status") or "").strip()
    status: LicenceStatus | None = None
    if raw:
        try:
            status = LicenceStatus(raw)
        except ValueError:
            raise InvalidInput("licence_status must be one of: own, licensed, unknown.") from None
    record = {
        key: str(fields[name]).strip()[:500]
        for name, key in LICENCE_UPLOAD_FIELDS.items()
        if str(fields.get(name) or "").strip()
    }
    return status, record


def licence_for(
    owner: User | None, status: LicenceStatus | None, licence: dict[str, Any] | None
) -> tuple[LicenceStatus, dict[str, Any]]:
    """The licence a new asset starts with: what the upload says, else the uploader's
    default (a team photographer's own work, with their credit), else unknown."""
    record = {k: v for k, v in (licence or {}).items() if v not in (None, "")}
    if status is None and owner is not None and owner.default_licence_status:
        status = LicenceStatus(owner.default_licence_status)
        if owner.default_credit and "credit" not in record:
            record["credit"] = owner.default_credit
    return status or LicenceStatus.unknown, record


def _library_asset(session: Session, sha256: str) -> Asset | None:
    query = select(Asset).where(Asset.sha256 == sha256, col(Asset.is_evidence).is_(False))
    return session.exec(query).first()
