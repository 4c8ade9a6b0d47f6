"""Selections downloaded as one ZIP from the UI: the library's selection or a whole
collection (web/templates/_zip_selection.html, _zip_collection.html) becomes a download
batch (gdpr/publishing/download_batches.py); its page (download_progress.html) shows a progress bar
until the ZIP is there. The file itself comes from the API (through the gate)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from dam import collections, presets
from dam.errors import DomainError
from gdpr.publishing import delivery, download_batches
from web.deps import SessionDep, SettingsDep
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.redirects import safe_next, see_other
from web.ui.routes.asset_download import CROP_PRESETS
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Reader = Annotated[Viewer, Depends(page("assets.download_rendition"))]
ZIP_PRESETS = ("web", "large", "print", *CROP_PRESETS)


def zip_choices(request: Request, viewer: Viewer, db: SessionDep) -> dict[str, Any]:
    """What the ZIP controls offer: channels (the user's last first) and presets."""
    assert viewer.user is not None
    settings = request.app.state.runtime.settings
    pref = delivery.preference(db, viewer.user, settings)
    return {
        "zip_channels": settings.channel_list,
        "zip_channel": pref.channel,
        "zip_presets": ZIP_PRESETS,
        "zip_banner": presets.parse_size(settings.banner_size),  # its size is a setting
    }


@router.post("/downloads/zip")
def ask_zip(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    collection_id: Annotated[str, Form(max_length=32)] = "",
    zip_channel: Annotated[str, Form(max_length=32)] = "",
    zip_preset: Annotated[str, Form(max_length=32)] = "web",
    zip_redact: Annotated[str, Form(max_length=5)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Pack the selection (or the collection) as one ZIP; on to its progress page."""
    assert viewer.user is not None
    back = safe_next(back)
    if collection_id:
        ids = collections.collection_asset_ids(db, collection_id, viewer.user)
    if not ids:
        flash(request, "error", viewer.gettext("Select one or more assets first."))
        return see_other(back)
    try:
        data = download_batches.BatchInput(
            asset_ids=ids[:5000],
            channel=zip_channel,
            preset=zip_preset if zip_preset in ZIP_PRESETS else "web",
            redact=zip_redact == "true",
        )
        batch = download_batches.create_batch(
            db, data=data, actor=viewer.user, settings=settings, lang=viewer.locale
        )
    except (DomainError, ValueError):
        flash(
            request,
            "error",
            viewer.gettext("Choose a channel, and at most 500 assets for one ZIP."),
        )
        return see_other(back)
    return see_other(f"/downloads/{batch.id}")


@router.get("/downloads/{batch_id}")
def zip_page(
    batch_id: str,
    request: Request,
    db: SessionDep,
    viewer: Reader,
    templates: TemplatesDep,
) -> Response:
    """The ZIP's progress, then its link and what happened to each asset."""
    assert viewer.user is not None
    batch = download_batches.get_batch(db, batch_id, viewer.user)
    return templates.render(
        request,
        "download_progress.html",
        viewer,
        batch=batch,
        percent=round(download_batches.progress(batch) * 100),
    )
