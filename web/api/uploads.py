"""/api/v1/uploads: the tus 1.0.0 resumable upload protocol."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from dam.models import User
from ingest import tus
from web.deps import BlobsDep, SessionDep, SettingsDep, require
from web.openapi import errors


def tus_resumable(request: Request) -> None:
    """tus: every request but OPTIONS names the protocol version; others get 412."""
    if request.headers.get("tus-resumable") != tus.TUS_VERSION:
        raise HTTPException(
            412,
            f"Send 'Tus-Resumable: {tus.TUS_VERSION}'; it is the only tus version served.",
            headers=_tus_headers(**{"Tus-Version": tus.TUS_VERSION}),
        )


router = APIRouter(prefix="/uploads", tags=["uploads"])
versioned = [Depends(tus_resumable)]


def _tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": tus.TUS_VERSION, "Cache-Control": "no-store", **extra}


def _int_header(request: Request, name: str) -> int | None:
    value = request.headers.get(name, "")
    return int(value) if value.isdigit() else None


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@router.options("", status_code=204)
def tus_options(settings: SettingsDep) -> Response:
    return Response(
        status_code=204,
        headers=_tus_headers(
            **{
                "Tus-Version": tus.TUS_VERSION,
                "Tus-Extension": tus.EXTENSIONS,
                "Tus-Max-Size": str(settings.max_upload_bytes),
                "Tus-Checksum-Algorithm": tus.CHECKSUM_ALGORITHMS,
            }
        ),
    )


@router.post(
    "", status_code=201, dependencies=versioned, responses=errors(400, 412, 413, 415, 460, 507)
)
async def create_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    user: User = Depends(require("assets.upload")),
) -> Response:
    upload = await run_in_threadpool(
        tus.create_upload,
        session,
        settings=settings,
        owner=user,
        length=_int_header(request, "upload-length"),
        metadata=request.headers.get("upload-metadata"),
    )
    headers = _tus_headers(
        Location=f"/api/v1/uploads/{upload.id}", **{"Upload-Expires": _http_date(upload.expires_at)}
    )
    if request.headers.get("content-type") == tus.PATCH_CONTENT_TYPE:
        # creation-with-upload: the first bytes ride along with the POST.
        result = await tus.append(
            session,
            settings=settings,
            blobs=blobs,
            owner=user,
            upload_id=upload.id,
            offset=0,
            content_type=tus.PATCH_CONTENT_TYPE,
            content_length=_int_header(request, "content-length"),
            checksum=request.headers.get("upload-checksum"),
            stream=request.stream(),
        )
        headers["Upload-Offset"] = str(result.upload.offset)
        headers["Upload-Expires"] = _http_date(result.upload.expires_at)
        if result.received is not None:
            headers["Beeldbank-Asset-Id"] = result.received.asset.id
    return Response(status_code=201, headers=headers)


@router.head("/{upload_id}", dependencies=versioned, responses=errors(410, 412))
def upload_status(
    upload_id: str, session: SessionDep, user: User = Depends(require("assets.upload"))
) -> Response:
    upload = tus.get_upload(session, upload_id=upload_id, owner=user)
    headers = _tus_headers(
        **{
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": _http_date(upload.expires_at),
        }
    )
    if upload.asset_id:
        headers["Beeldbank-Asset-Id"] = upload.asset_id
    return Response(status_code=200, headers=headers)


@router.patch(
    "/{upload_id}",
    status_code=204,
    dependencies=versioned,
    responses=errors(400, 409, 410, 412, 413, 415, 460, 507),
)
async def append_to_upload(
    upload_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    user: User = Depends(require("assets.upload")),
) -> Response:
    result = await tus.append(
        session,
        settings=settings,
        blobs=blobs,
        owner=user,
        upload_id=upload_id,
        offset=_int_header(request, "upload-offset"),
        content_type=request.headers.get("content-type"),
        content_length=_int_header(request, "content-length"),
        checksum=request.headers.get("upload-checksum"),
        stream=request.stream(),
    )
    headers = _tus_headers(
        **{
            "Upload-Offset": str(result.upload.offset),
            "Upload-Expires": _http_date(result.upload.expires_at),
        }
    )
    if result.received is not None:
        headers["Beeldbank-Asset-Id"] = result.received.asset.id
        if result.received.duplicate:
            headers["Beeldbank-Duplicate"] = "true"
    return Response(status_code=204, headers=headers)


@router.delete("/{upload_id}", status_code=204, dependencies=versioned, responses=errors(412))
def terminate_upload(
    upload_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.upload")),
) -> Response:
    tus.terminate(session, settings=settings, owner=user, upload_id=upload_id)
    return Response(status_code=204, headers=_tus_headers())
