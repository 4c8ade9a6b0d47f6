"""/api/v1/collections: named sets of assets (the unit creatives hand to colleagues)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from dam import collections
from dam.models import Collection, User
from web.api.schemas import AssetSummary, asset_summary
from web.deps import SessionDep, VisibleAsset, require

router = APIRouter(prefix="/collections", tags=["collections"])


class CollectionPublic(BaseModel):
    id: str
    title: str
    description: str
    owner_id: str | None
    asset_count: int
    created_at: datetime
    updated_at: datetime


class CollectionDetail(CollectionPublic):
    page: int
    per_page: int
    items: list[AssetSummary]


class AssetIds(BaseModel):
    asset_ids: list[str] = Field(min_length=1, max_length=collections.MAX_ASSETS_PER_CALL)


class Changed(BaseModel):
    changed: int


def _public(collection: Collection, count: int) -> CollectionPublic:
    return CollectionPublic(
        id=collection.id,
        title=collection.title,
        description=collection.description,
        owner_id=collection.owner_id,
        asset_count=count,
        created_at=collection.created_at,
        updated_at=collection.updated_at,
    )


@router.get("", response_model=list[CollectionPublic])
def list_collections(
    session: SessionDep, user: User = Depends(require("collections.read"))
) -> list[CollectionPublic]:
    return [
        _public(s.collection, s.asset_count) for s in collections.list_collections(session, user)
    ]


@router.post("", status_code=201, response_model=CollectionPublic)
def create_collection(
    data: collections.CollectionCreate,
    session: SessionDep,
    user: User = Depends(require("collections.edit")),
) -> CollectionPublic:
    return _public(collections.create_collection(session, data=data, owner=user), 0)


@router.get("/{collection_id}", response_model=CollectionDetail)
def get_collection(
    collection_id: str,
    session: SessionDep,
    user: User = Depends(require("collections.read")),
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 60,
) -> CollectionDetail:
    collection = collections.get_collection(session, collection_id)
    found = collections.collection_assets(
        session, collection_id=collection_id, viewer=user, page=page, per_page=per_page
    )
    return CollectionDetail(
        **_public(collection, found.total).model_dump(),
        page=page,
        per_page=per_page,
        items=[asset_summary(a) for a in found.items],
    )


@router.patch("/{collection_id}", response_model=CollectionPublic)
def update_collection(
    collection_id: str,
    data: collections.CollectionUpdate,
    session: SessionDep,
    user: User = Depends(require("collections.edit")),
) -> CollectionPublic:
    collection = collections.update_collection(
        session, collection_id=collection_id, data=data, actor=user
    )
    count = len(collections.collection_asset_ids(session, collection_id, user))
    return _public(collection, count)


@router.delete("/{collection_id}", status_code=204)
def delete_collection(
    collection_id: str,
    session: SessionDep,
    user: User = Depends(require("collections.edit")),
) -> Response:
    collections.delete_collection(session, collection_id=collection_id, actor=user)
    return Response(status_code=204)


@router.post("/{collection_id}/assets", response_model=Changed)
def add_assets(
    collection_id: str,
    data: AssetIds,
    session: SessionDep,
    user: User = Depends(require("collections.edit")),
) -> Changed:
    added = collections.add_assets(
        session, collection_id=collection_id, asset_ids=data.asset_ids, actor=user
    )
    return Changed(changed=added)


@router.delete("/{collection_id}/assets/{asset_id}", status_code=204)
def remove_asset(
    collection_id: str,
    session: SessionDep,
    user: User = Depends(require("collections.edit")),
    *,
    asset: VisibleAsset,
) -> Response:
    collections.remove_assets(
        session, collection_id=collection_id, asset_ids=[asset.id], actor=user
    )
    return Response(status_code=204)
