"""Collections: create, rename, describe, fill and empty them; list their assets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import and_, func
from sqlmodel import Session, col, delete, select

from dam import audit
from dam.assets import visible_to
from dam.clock import now
from dam.errors import NotFound
from dam.models import Asset, Collection, CollectionAsset, User

MAX_ASSETS_PER_CALL = 1_000


class CollectionCreate(BaseModel):
    model_config = {"extra": "forbid"}

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5_000)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("A collection needs a title.")
        return value


class CollectionUpdate(BaseModel):
    """Absent fields stay as they are."""

    model_config = {"extra": "forbid"}

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5_000)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value:
            raise ValueError("A collection needs a title.")
        return value


@dataclass(frozen=True)
class CollectionSummary:
    collection: Collection
    asset_count: int
    cover_asset_id: str | None


def create_collection(session: Session, *, data: CollectionCreate, owner: User) -> Collection:
    collection = Collection(title=data.title, description=data.description, owner_id=owner.id)
    session.add(collection)
    session.flush()
    audit.record(
        session,
        action="collection.created",
        actor_id=owner.id,
        subject_type="collection",
        subject_id=collection.id,
    )
    session.commit()
    return collection


def get_collection(session: Session, collection_id: str) -> Collection:
    collection = session.get(Collection, collection_id)
    if collection is None:
        raise NotFound("There is no collection with this id.")
    return collection


def update_collection(
    session: Session, *, collection_id: str, data: CollectionUpdate, actor: User
) -> Collection:
    collection = get_collection(session, collection_id)
    changed = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changed.items():
        setattr(collection, name, value)
    collection.updated_at = now()
    session.add(collection)
    audit.record(
        session,
        action="collection.updated",
        actor_id=actor.id,
        subject_type="collection",
        subject_id=collection.id,
        details={"fields": sorted(changed)},
    )
    session.commit()
    return collection


def delete_collection(session: Session, *, collection_id: str, actor: User) -> None:
    """Remove the collection; its assets stay in the library."""
    collection = get_collection(session, collection_id)
    session.exec(delete(CollectionAsset).where(col(CollectionAsset.collection_id) == collection.id))
    session.delete(collection)
    audit.record(
        session,
        action="collection.deleted",
        actor_id=actor.id,
        subject_type="collection",
        subject_id=collection_id,
    )
    session.commit()


def add_assets(
    session: Session, *, collection_id: str, asset_ids: Iterable[str], actor: User
) -> int:
    """Add the assets that exist and are not in the collection yet; return how many.

    An asset `actor` may not see (consent evidence, restricted) counts as missing: a
    collection page shows its assets to everyone who reads collections."""
    collection = get_collection(session, collection_id)
    wanted = list(dict.fromkeys(asset_ids))[:MAX_ASSETS_PER_CALL]
    if not wanted:
        return 0
    existing = set(
        session.exec(select(Asset.id).where(col(Asset.id).in_(wanted), visible_to(actor)))
    )
    present = set(
        session.exec(
            select(CollectionAsset.asset_id).where(
                CollectionAsset.collection_id == collection.id,
                col(CollectionAsset.asset_id).in_(wanted),
            )
        )
    )
    missing = [a for a in wanted if a not in existing]
    if missing and not existing:
        raise NotFound("None of these assets exists.")
    new = [a for a in wanted if a in existing and a not in present]
    session.add_all(CollectionAsset(collection_id=collection.id, asset_id=a) for a in new)
    if new:
        collection.updated_at = now()
        session.add(collection)
        audit.record(
            session,
            action="collection.assets_added",
            actor_id=actor.id,
            subject_type="collection",
            subject_id=collection.id,
            details={"asset_ids": new},
        )
    session.commit()
    return len(new)


def remove_assets(
    session: Session, *, collection_id: str, asset_ids: Iterable[str], actor: User
) -> int:
    """Take assets out of the collection (they stay in the library); return how many."""
    collection = get_collection(session, collection_id)
    wanted = list(dict.fromkeys(asset_ids))[:MAX_ASSETS_PER_CALL]
    present = list(
        session.exec(
            select(CollectionAsset.asset_id).where(
                CollectionAsset.collection_id == collection.id,
                col(CollectionAsset.asset_id).in_(wanted),
            )
        )
    )
    if present:
        session.exec(
            delete(CollectionAsset).where(
                col(CollectionAsset.collection_id) == collection.id,
                col(CollectionAsset.asset_id).in_(present),
            )
        )
        collection.updated_at = now()
        session.add(collection)
        audit.record(
            session,
            action="collection.assets_removed",
            actor_id=actor.id,
            subject_type="collection",
            subject_id=collection.id,
            details={"asset_ids": present},
        )
    session.commit()
    return len(present)


def list_collections(session: Session, viewer: User | None) -> list[CollectionSummary]:
    """Every collection, most recently changed first, with its size and a cover asset
    (counting only the assets `viewer` may see)."""
    counts = (
        select(
            CollectionAsset.collection_id,
            func.count().label("n"),
            func.max(CollectionAsset.asset_id).label("cover"),
        )
        .join(Asset, col(Asset.id) == CollectionAsset.asset_id)
        .where(visible_to(viewer))
        .group_by(col(CollectionAsset.collection_id))
        .subquery()
    )
    rows = session.exec(
        select(Collection, counts.c.n, counts.c.cover)
        .outerjoin(counts, counts.c.collection_id == Collection.id)
        .order_by(col(Collection.updated_at).desc(), col(Collection.id))
    )
    return [CollectionSummary(c, int(n or 0), cover) for c, n, cover in rows]


def collection_asset_ids(session: Session, collection_id: str, viewer: User | None) -> list[str]:
    """The ids of the collection's assets that `viewer` may see."""
    return list(
        session.exec(
            select(CollectionAsset.asset_id)
            .join(Asset, col(Asset.id) == CollectionAsset.asset_id)
            .where(CollectionAsset.collection_id == collection_id, visible_to(viewer))
        )
    )


def collections_of(session: Session, asset_id: str) -> list[Collection]:
    """The collections an asset belongs to, by title."""
    return list(
        session.exec(
            select(Collection)
            .join(CollectionAsset, col(CollectionAsset.collection_id) == Collection.id)
            .where(CollectionAsset.asset_id == asset_id)
            .order_by(func.lower(Collection.title))
        )
    )


@dataclass(frozen=True)
class CollectionPage:
    total: int
    items: list[Asset]


def collection_assets(
    session: Session,
    *,
    collection_id: str,
    viewer: User | None,
    page: int = 1,
    per_page: int = 60,
) -> CollectionPage:
    """A page of the collection's assets that `viewer` may see, most recently added first
    (an asset restricted after it was added stays out of sight)."""
    get_collection(session, collection_id)
    where = and_(col(CollectionAsset.collection_id) == collection_id, visible_to(viewer))
    total = session.exec(
        select(func.count())
        .select_from(CollectionAsset)
        .join(Asset, col(Asset.id) == CollectionAsset.asset_id)
        .where(where)
    ).one()
    items = session.exec(
        select(Asset)
        .join(CollectionAsset, col(CollectionAsset.asset_id) == Asset.id)
        .where(where)
        .order_by(col(CollectionAsset.added_at).desc(), col(Asset.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return CollectionPage(total=int(total), items=list(items))
