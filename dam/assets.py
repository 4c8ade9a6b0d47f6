"""Reading, editing and deleting assets (creating them is ingest's job)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, delete, select

from dam import audit, events
from dam.auth import has_permission
from dam.blobs import BlobStore
from dam.chunks import chunks
from dam.clock import now
from dam.errors import N_, Conflict, InvalidInput, NotFound
from dam.input_types import Flag, Moment
from dam.models import Asset, AssetTag, Face, Job, LicenceStatus, Rendition, User
from dam.urls import is_url_key, is_web_address

MAX_TAGS = 100


class AssetUpdate(BaseModel):
    """The fields a person may change; absent fields stay as they are."""

    model_config = {"extra": "forbid"}

    title: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=20_000)
    alt_text: str | None = Field(None, max_length=1_000)
    tags: list[str] | None = Field(None, max_length=MAX_TAGS)
    licence: dict[str, Any] | None = None
    # Own work, licensed or unknown (external channels need a known one).
    licence_status: LicenceStatus | None = None
    # Not to be published before this moment; null lifts the embargo.
    embargo_until: Moment | None = None
    # "This picture shows people the detector missed": its verdict is never `cleared`.
    undetected_people: Flag | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return normalise_tags(value) if value is not None else None

    @field_validator("licence")
    @classmethod
    def _licence(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for key, item in (value or {}).items():
            if (
                is_url_key(key)
                and item not in (None, "")
                and not (isinstance(item, str) and is_web_address(item))
            ):
                raise ValueError(f"{key}: give a web address that starts with http:// or https://")
        return value


def normalise_tags(values: list[str]) -> list[str]:
    """Lower-case, trimmed, unique, in the order given; empty ones dropped."""
    seen: dict[str, None] = {}
    for raw in values:
        tag = " ".join(str(raw).split()).lower()[:100]
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def split_tags(text: str | None) -> list[str]:
    return normalise_tags((text or "").split(","))


def get_asset(session: Session, asset_id: str) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFound("There is no asset with this id.")
    return asset


# The permission that opens consent evidence (restricted assets) and finds people marked
# hidden by name: the same in listings, search and a person's page.
RESTRICTED_PERMISSION = "consents.manage"


def may_see_restricted(user: User) -> bool:
    """Consent evidence (restricted assets) is for privacy officers and admins only."""
    return has_permission(user, RESTRICTED_PERMISSION)


def get_visible_asset(session: Session, asset_id: str, user: User) -> Asset:
    """The asset, unless it is restricted and `user` may not know it exists (404 then,
    with the very answer a missing id gets)."""
    asset = session.get(Asset, asset_id)
    if asset is None or (asset.restricted and not may_see_restricted(user)):
        raise NotFound("There is no asset with this id.")
    return asset


def get_library_asset(session: Session, asset_id: str, user: User) -> Asset:
    """The library asset `user` may see; 404 as for a missing id otherwise. Consent evidence
    is not a library asset, so every library route answers 404 for it, to every role (its
    officers reach it through its consent)."""
    asset = get_visible_asset(session, asset_id, user)
    if asset.is_evidence:
        raise NotFound("There is no asset with this id.")
    return asset


def visible_to(user: User | None) -> Any:
    """A WHERE clause for the library assets `user` may see (for listings of assets);
    None: those everyone may see (the UI's grids, which show no restricted asset)."""
    clause: Any = col(Asset.is_evidence).is_(False)
    if user is None or not may_see_restricted(user):
        clause = and_(clause, col(Asset.restricted).is_(False))
    return clause


@dataclass(frozen=True)
class AssetView:
    """An asset with what its page and API representation show alongside it."""

    asset: Asset
    tags: list[str]
    renditions: list[Rendition]
    faces: list[Face] = field(default_factory=list)


def asset_view(session: Session, asset_id: str) -> AssetView:
    asset = get_asset(session, asset_id)
    return AssetView(
        asset,
        tags_of(session, asset_id),
        renditions_of(session, asset_id),
        faces_of(session, asset_id),
    )


def faces_of(session: Session, asset_id: str) -> list[Face]:
    """The faces found in an asset, top to bottom, left to right (reading order)."""
    query = select(Face).where(Face.asset_id == asset_id)
    return list(session.exec(query.order_by(col(Face.box_y), col(Face.box_x), col(Face.id))))


def tags_of(session: Session, asset_id: str) -> list[str]:
    return sorted(session.exec(select(AssetTag.tag).where(AssetTag.asset_id == asset_id)))


def renditions_of(session: Session, asset_id: str) -> list[Rendition]:
    return list(
        session.exec(
            select(Rendition)
            .where(Rendition.asset_id == asset_id)
            .order_by(col(Rendition.width).desc())
        )
    )


def get_rendition(session: Session, asset_id: str, name: str) -> Rendition:
    rendition = session.exec(
        select(Rendition).where(Rendition.asset_id == asset_id, Rendition.name == name)
    ).first()
    if rendition is None:
        get_asset(session, asset_id)
        raise NotFound(
            N_("This asset has no rendition called %(name)r (yet)."), params={"name": name}
        )
    return rendition


def jobs_of(session: Session, asset_id: str) -> list[Job]:
    get_asset(session, asset_id)
    return list(
        session.exec(select(Job).where(Job.asset_id == asset_id).order_by(col(Job.created_at)))
    )


def get_job(session: Session, job_id: str, user: User) -> Job:
    """One job, for someone who may see its asset (a redacted video's progress, say)."""
    job = session.get(Job, job_id)
    if job is None or job.asset_id is None:  # a person's job is the privacy pages' own
        raise NotFound("There is no job with this id.")
    get_visible_asset(session, job.asset_id, user)
    return job


def set_tags(session: Session, asset_id: str, tags: list[str]) -> None:
    session.exec(delete(AssetTag).where(col(AssetTag.asset_id) == asset_id))
    session.add_all(AssetTag(asset_id=asset_id, tag=t) for t in normalise_tags(tags)[:MAX_TAGS])


def update_asset(session: Session, *, asset_id: str, data: AssetUpdate, actor: User) -> Asset:
    asset = get_asset(session, asset_id)
    changed = data.model_dump(exclude_unset=True)
    for name in ("title", "description", "alt_text", "licence"):
        if name in changed and changed[name] is not None:
            setattr(asset, name, changed[name])
    if "embargo_until" in changed:
        until = changed["embargo_until"]
        if until is not None and until.tzinfo is None:
            raise InvalidInput("Give the embargo with a time zone, e.g. 2026-12-01T09:00:00+01:00.")
        asset.embargo_until = until
    if changed.get("licence_status") is not None:
        asset.licence_status = LicenceStatus(changed["licence_status"])
    if changed.get("undetected_people") is not None:
        asset.undetected_people = bool(changed["undetected_people"])
    if data.tags is not None:
        set_tags(session, asset.id, data.tags)
    asset.updated_at = now()
    audit.record(
        session,
        action="asset.updated",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset.id,
        details={"fields": sorted(changed)},
    )
    events.publish_after_commit(session, events.AssetChanged(asset_id=asset.id))
    session.commit()
    return asset


def delete_asset(session: Session, *, asset_id: str, actor: User, blobs: BlobStore) -> None:
    """Remove the asset, its derived files and its original unless another asset shares it
    (content is stored once). Consent evidence goes only with its consent's history."""
    asset = get_asset(session, asset_id)
    if asset.is_evidence:
        raise Conflict(
            "This is consent evidence; it changes only with a new version of its consent."
        )
    sha = remove_asset_rows(session, asset)
    shared = not unused_originals(session, [sha])
    audit.record(
        session,
        action="asset.deleted",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset_id,
        details={"sha256": sha},
    )
    events.publish_after_commit(session, events.AssetDeleted(asset_id=asset_id))
    session.commit()
    blobs.delete_derived(asset_id)
    if not shared:
        blobs.delete_original(sha)


def unused_originals(session: Session, shas: list[str]) -> list[str]:
    """Those of `shas` that no asset uses any more (in the caller's transaction, after its
    deletions were flushed): a library photo and a consent form with the same bytes share
    one stored original, and removing one must not take the other's file."""
    session.flush()
    wanted = sorted(set(shas))
    used: set[str] = set()
    for chunk in chunks(wanted):
        used.update(session.exec(select(Asset.sha256).where(col(Asset.sha256).in_(chunk))))
    return [sha for sha in wanted if sha not in used]


def remove_asset_rows(session: Session, asset: Asset) -> str:
    """Delete an asset's rows in the caller's transaction (the rest cascades); returns the
    original's hash. The caller removes the files after committing."""
    session.exec(delete(Job).where(col(Job.asset_id) == asset.id))
    session.exec(delete(Rendition).where(col(Rendition.asset_id) == asset.id))
    session.exec(delete(AssetTag).where(col(AssetTag.asset_id) == asset.id))
    session.delete(asset)
    return asset.sha256


def original_for_download(
    session: Session, *, asset_id: str, actor: User, blobs: BlobStore
) -> tuple[Asset, Path]:
    """The original's path, with the download recorded in the audit log."""
    asset = get_asset(session, asset_id)
    path = blobs.original_path(asset.sha256)
    if not path.exists():
        raise NotFound(
            "The original file is missing from storage; an administrator should run `dam check`."
        )
    audit.record(
        session,
        action="asset.original_downloaded",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset.id,
    )
    session.commit()
    return asset, path


SortKey = Literal["newest", "oldest", "taken", "title"]


@dataclass(frozen=True)
class AssetPage:
    total: int
    items: list[Asset]


def list_assets(
    session: Session,
    *,
    page: int = 1,
    per_page: int = 60,
    sort: SortKey = "newest",
    kind: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    owner_id: str | None = None,
    include_restricted: bool = False,
) -> AssetPage:
    # Consent evidence is never listed, not even to those who may open it.
    query = select(Asset).where(col(Asset.is_evidence).is_(False))
    if not include_restricted:
        query = query.where(col(Asset.restricted).is_(False))
    if kind:
        query = query.where(Asset.kind == kind)
    if status:
        query = query.where(Asset.status == status)
    if owner_id:
        query = query.where(Asset.owner_id == owner_id)
    if tag:
        query = query.where(
            col(Asset.id).in_(select(AssetTag.asset_id).where(AssetTag.tag == tag.strip().lower()))
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    orders: dict[str, list[Any]] = {
        "newest": [col(Asset.created_at).desc(), col(Asset.id).desc()],
        "oldest": [col(Asset.created_at), col(Asset.id)],
        "taken": [col(Asset.taken_at).desc().nulls_last(), col(Asset.id).desc()],
        "title": [func.lower(Asset.title), col(Asset.id)],
    }
    order = orders[sort]
    items = session.exec(query.order_by(*order).offset((page - 1) * per_page).limit(per_page))
    return AssetPage(total=int(total), items=list(items))


def similar_assets(
    session: Session, *, asset_id: str, max_distance: int, include_restricted: bool = False
) -> list[tuple[Asset, int]]:
    """Assets whose perceptual hash is within `max_distance` bits, nearest first."""
    asset = get_asset(session, asset_id)
    if asset.phash is None:
        return []
    target = int(asset.phash, 16)
    bands = (asset.phash_b0, asset.phash_b1, asset.phash_b2, asset.phash_b3)
    candidates = session.exec(
        select(Asset).where(
            Asset.id != asset.id,
            col(Asset.is_evidence).is_(False),
            or_(
                col(Asset.phash_b0) == bands[0],
                col(Asset.phash_b1) == bands[1],
                col(Asset.phash_b2) == bands[2],
                col(Asset.phash_b3) == bands[3],
            ),
        )
    )
    found = []
    for other in candidates:
        if other.restricted and not include_restricted:
            continue
        distance = (int(other.phash or "0", 16) ^ target).bit_count()
        if distance <= max_distance:
            found.append((other, distance))
    return sorted(found, key=lambda pair: (pair[1], pair[0].id))
