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
from gdpr import egress
from gdpr.verdict_text import language
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
from web.deps import BlobsDep, SessionDep, SettingsDep, require

router = APIRouter(prefix="/assets", tags=["assets"])

IMMUTABLE = "private, max-age=31536000, immutable"


@router.post(
    "",
    status_code=201,
    response_model=UploadResult,
    responses={200: {"model": UploadResult, "description": "Duplicate content"}},
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
    assets.get_visible_asset(session, asset_id, user)
    lang = language(request.headers.get("accept-language"))
    verdict = verdict_public(session, asset_id, settings=settings, user=user, lang=lang)
    return asset_public(assets.asset_view(session, asset_id), verdict)


@router.get("/{asset_id}", response_model=AssetPublic)
def get_asset(
    asset_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
) -> AssetPublic:
    return _asset_json(session, asset_id, request, settings, user)


@router.patch("/{asset_id}", response_model=AssetPublic)
def update_asset(
    asset_id: str,
    data: assets.AssetUpdate,
    session: SessionDep,
    request: Request,
    settings: SettingsDep,
    user: User = Depends(require("assets.edit")),
) -> AssetPublic:
    assets.get_visible_asset(session, asset_id, user)
    assets.update_asset(session, asset_id=asset_id, data=data, actor=user)
    return _asset_json(session, asset_id, request, settings, user)


@router.delete("/{asset_id}", status_code=204)
def delete_asset(
    asset_id: str,
    session: SessionDep,
    blobs: BlobsDep,
    user: User = Depends(require("assets.delete")),
) -> Response:
    assets.delete_asset(session, asset_id=asset_id, actor=user, blobs=blobs)
    return Response(status_code=204)


@router.get("/{asset_id}/renditions/{name}", response_class=FileResponse)
def get_rendition(
    asset_id: str,
    name: str,
    request: Request,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.download_rendition")),
) -> Response:
    rendition = assets.get_rendition(session, asset_id, name)
    egress.check_file_access(session, user, asset_id, name, settings=settings)
    etag = f'"{rendition.sha256}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return FileResponse(blobs.root / rendition.path, media_type=rendition.mime, headers=headers)


@router.get("/{asset_id}/original", response_class=FileResponse)
async def get_original(
    asset_id: str,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.download_original")),
) -> Response:
    await run_in_threadpool(
        egress.check_file_access, session, user, asset_id, None, settings=settings
    )
    asset, path = await run_in_threadpool(
        assets.original_for_download, session, asset_id=asset_id, actor=user, blobs=blobs
    )
    return FileResponse(
        path,
        media_type=asset.mime,
        filename=asset.filename,
        headers={"ETag": f'"{asset.sha256}"', "Cache-Control": "private, no-cache"},
    )


@router.get("/{asset_id}/similar", response_model=list[SimilarAsset])
def similar_assets(
    asset_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
) -> list[SimilarAsset]:
    assets.get_visible_asset(session, asset_id, user)
    found = assets.similar_assets(
        session,
        asset_id=asset_id,
        max_distance=settings.similar_max_distance,
        include_restricted=assets.may_see_restricted(user),
    )
    return [
        SimilarAsset(id=a.id, distance=d, thumbnail_url=rendition_url(a.id, "thumb"))
        for a, d in found
    ]
