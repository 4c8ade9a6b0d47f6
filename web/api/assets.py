"""/api/v1/assets: upload, read, edit, delete, renditions, originals, similar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from dam import assets
from dam.models import User
from dam.settings import Settings
from gdpr import gate
from ingest.upload import receive_upload
from web.api.schemas import (
    AssetList,
    AssetPublic,
    SimilarAsset,
    UploadResult,
    asset_public,
    asset_summary,
    rendition_url,
)
from web.api.verdict_schemas import verdict_public
from web.deps import BlobsDep, SessionDep, SettingsDep, VisibleAsset, require
from web.errors import api_locale
from web.files import file_response
from web.openapi import errors

router = APIRouter(prefix="/assets", tags=["assets"])


@router.post(
    "",
    status_code=201,
    response_model=UploadResult,
    responses={
        200: {"model": UploadResult, "description": "Duplicate content"},
        **errors(400, 413, 415, 507),
    },
)
async def upload_asset(
    request: Request,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.upload")),
) -> JSONResponse:
    """Stream a file (multipart field `file`, optional `title`, `description`, `tags`)."""
    length = request.headers.get("content-length")
    received = await receive_upload(
        session=session,
        blobs=blobs,
        settings=settings,
        owner=user,
        content_type=request.headers.get("content-type", ""),
        content_length=int(length) if length and length.isdigit() else None,
        stream=request.stream(),
    )
    asset = received.asset
    body = UploadResult(
        id=asset.id, status=asset.status, sha256=asset.sha256, duplicate=received.duplicate
    )
    return JSONResponse(body.model_dump(), status_code=200 if received.duplicate else 201)


@router.get("", response_model=AssetList)
def list_assets(
    session: SessionDep,
    user: User = Depends(require("assets.read")),
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 60,
    sort: assets.SortKey = "newest",
    kind: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    mine: bool = False,
) -> AssetList:
    result = assets.list_assets(
        session,
        page=page,
        per_page=per_page,
        sort=sort,
        kind=kind,
        tag=tag,
        status=status,
        owner_id=user.id if mine else None,
        include_restricted=assets.may_see_restricted(user),
    )
    return AssetList(
        total=result.total,
        page=page,
        per_page=per_page,
        items=[asset_summary(a) for a in result.items],
    )


def _asset_json(
    session: Session, asset_id: str, request: Request, settings: Settings, user: User
) -> AssetPublic:
    lang = api_locale(request)  # the verdict's reasons in the same language as the rest
    verdict = verdict_public(session, asset_id, settings=settings, user=user, lang=lang)
    return asset_public(assets.asset_view(session, asset_id), verdict, locale=lang)


@router.get("/{asset_id}", response_model=AssetPublic)
def get_asset(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
    *,
    asset: VisibleAsset,
) -> AssetPublic:
    return _asset_json(session, asset.id, request, settings, user)


@router.patch("/{asset_id}", response_model=AssetPublic)
def update_asset(
    data: assets.AssetUpdate,
    session: SessionDep,
    request: Request,
    settings: SettingsDep,
    user: User = Depends(require("assets.edit")),
    *,
    asset: VisibleAsset,
) -> AssetPublic:
    assets.update_asset(session, asset_id=asset.id, data=data, actor=user)
    return _asset_json(session, asset.id, request, settings, user)


@router.delete("/{asset_id}", status_code=204)
def delete_asset(
    session: SessionDep,
    blobs: BlobsDep,
    user: User = Depends(require("assets.delete")),
    *,
    asset: VisibleAsset,
) -> Response:
    assets.delete_asset(session, asset_id=asset.id, actor=user, blobs=blobs)
    return Response(status_code=204)


@router.get(
    "/{asset_id}/renditions/{name}", response_class=FileResponse, responses=errors(409, 416)
)
def get_rendition(
    asset_id: str,
    name: str,
    request: Request,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.download_rendition")),
) -> Response:
    ask = gate.RenditionFile(asset_id=asset_id, name=name)
    released = gate.release(session, ask, by=user, settings=settings, blobs=blobs)
    return file_response(released, request)


@router.get("/{asset_id}/original", response_class=FileResponse, responses=errors(409, 416))
async def get_original(
    asset_id: str,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.download_original")),
) -> Response:
    ask = gate.OriginalFile(asset_id=asset_id)
    released = await run_in_threadpool(
        lambda: gate.release(session, ask, by=user, settings=settings, blobs=blobs)
    )
    return file_response(released)


@router.get("/{asset_id}/similar", response_model=list[SimilarAsset])
def similar_assets(
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
    *,
    asset: VisibleAsset,
) -> list[SimilarAsset]:
    found = assets.similar_assets(
        session,
        asset_id=asset.id,
        max_distance=settings.similar_max_distance,
        include_restricted=assets.may_see_restricted(user),
    )
    return [
        SimilarAsset(id=a.id, distance=d, thumbnail_url=rendition_url(a.id, "thumb"))
        for a, d in found
    ]
