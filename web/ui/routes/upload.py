"""The upload page; the browser sends files over tus to /api/v1/uploads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from dam import accounts, collections
from dam.errors import DomainError
from web.deps import SessionDep, SettingsDep
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.forms import LICENCE_STATUS_LABELS
from web.ui.redirects import see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


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
    db: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    viewer: Viewer = Depends(page("assets.upload")),
) -> Response:
    assert viewer.user is not None
    return templates.render(
        request,
        "upload.html",
        viewer,
        opts=options(request),
        max_bytes=settings.max_upload_bytes,
        statuses=LICENCE_STATUS_LABELS,
        default_status=viewer.user.default_licence_status or "",
        default_credit=viewer.user.default_credit,
        collections=[c.collection for c in collections.list_collections(db, viewer.user)],
    )


@router.post("/upload/licence-default")
def save_licence_default(
    request: Request,
    db: SessionDep,
    licence_status: Annotated[str, Form(max_length=16)] = "",
    credit: Annotated[str, Form(max_length=500)] = "",
    viewer: Viewer = Depends(page("assets.upload")),
) -> Response:
    """What your uploads start with from now on (a team photographer: own work, once)."""
    assert viewer.user is not None
    try:
        accounts.set_licence_default(db, user=viewer.user, status=licence_status, credit=credit)
    except DomainError:
        flash(request, "error", viewer.gettext("Choose own work, licensed or unknown."))
        return see_other("/upload")
    flash(request, "success", viewer.gettext("Your uploads start with this licence from now on."))
    return see_other("/upload")
