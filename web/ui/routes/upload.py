"""The upload page; the browser sends files over tus to /api/v1/uploads."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from web.deps import SettingsDep
from web.ui.deps import TemplatesDep, page
from web.ui.templating import Viewer

router = APIRouter(include_in_schema=False)


@dataclass
class UploadOptions:
    """How the browser uploads: chunk size per PATCH and status polling interval."""

    # One PATCH per chunk: a dropped connection costs at most one chunk, and progress is
    # saved on the server after each one. Tests set a small chunk to cut mid-upload.
    chunk_bytes: int = 8 * 1024 * 1024
    poll_ms: int = 1000
    retry_delays_ms: tuple[int, ...] = (500, 1000, 2000, 4000, 8000, 15000)


def options(request: Request) -> UploadOptions:
    found: UploadOptions = request.app.state.upload_options
    return found


@router.get("/upload")
def upload_page(
    request: Request,
    settings: SettingsDep,
    templates: TemplatesDep,
    viewer: Viewer = Depends(page("assets.upload")),
) -> Response:
    return templates.render(
        request,
        "upload.html",
        viewer,
        opts=options(request),
        max_bytes=settings.max_upload_bytes,
    )
