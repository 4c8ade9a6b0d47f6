"""/api/v1/uploads: the tus 1.0.0 resumable upload protocol."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from dam.models import User
from ingest import tus
from web.deps import BlobsDep, SessionDep, SettingsDep, require

router = APIRouter(prefix="/uploads", tags=["uploads"])


def _tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": tus.TUS_VERSION, "Cache-Control": "no-store", **extra}


def _offset(request: Request) -> int | None:
    value = request.headers.get("upload-offset", "")
    return int(value) if value.isdigit() else None


@router.options("")
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


@router.post("", status_code=201)
async def create_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    user: User = Depends(require("assets.upload")),
) -> Response:
    length = request.headers.get("upload-length", "")
    upload = await run_in_threadpool(
        tus.create_upload,
        session,
        settings=settings,
        owner=user,
        length=int(length) if length.isdigit() else None,
        metadata=request.headers.get("upload-metadata"),
    )
    headers = _tus_headers(
        Location=f"/api/v1/uploads/{upload.id}",
        **{"Upload-Expires": upload.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")},
    )
    if request.headers.get("content-type") == "application/offset+octet-stream":
        # creation-with-upload: the first bytes ride along with the POST.
        result = await tus.append(
            session,
            settings=settings,
            blobs=blobs,
            owner=user,
            upload_id=upload.id,
            offset=0,
            content_type="application/offset+octet-stream",
            checksum=request.headers.get("upload-checksum"),
            stream=request.stream(),
        )
        headers["Upload-Offset"] = str(result.upload.offset)
        if result.received is not None:
            headers["Beeldbank-Asset-Id"] = result.received.asset.id
    return Response(status_code=201, headers=headers)


@router.head("/{upload_id}")
def upload_status(
    upload_id: str, session: SessionDep, user: User = Depends(require("assets.upload"))
) -> Response:
    upload = tus.get_upload(session, upload_id=upload_id, owner=user)
    headers = _tus_headers(
        **{"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}
    )
    if upload.asset_id:
        headers["Beeldbank-Asset-Id"] = upload.asset_id
    return Response(status_code=200, headers=headers)


@router.patch("/{upload_id}", status_code=204)
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
        offset=_offset(request),
        content_type=request.headers.get("content-type"),
        checksum=request.headers.get("upload-checksum"),
        stream=request.stream(),
    )
    headers = _tus_headers(**{"Upload-Offset": str(result.upload.offset)})
    if result.received is not None:
        headers["Beeldbank-Asset-Id"] = result.received.asset.id
        if result.received.duplicate:
            headers["Beeldbank-Duplicate"] = "true"
    return Response(status_code=204, headers=headers)


@router.delete("/{upload_id}", status_code=204)
def terminate_upload(
    upload_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.upload")),
) -> Response:
    tus.terminate(session, settings=settings, owner=user, upload_id=upload_id)
    return Response(status_code=204, headers=_tus_headers())
