"""The forms beside an asset's verdict (web/templates/_verdict.html): recording where it
was published, saying it shows people the detector missed, and its embargo date.

Each posts here and goes back to the asset page (PRG); the change feed re-judges the
verdict after the commit (within a second; the page judges afresh meanwhile only past a
deadline).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from dam import assets
from dam.assets import AssetUpdate
from dam.models import Asset
from dam.settings import Settings
from gdpr.publishing import usages
from web.api.verdict_schemas import verdict_public
from web.deps import SessionDep, SettingsDep
from web.ui.deps import PageAsset, csrf_protect, page
from web.ui.redirects import safe_next, see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Recorder = Annotated[Viewer, Depends(page("usages.record"))]
Editor = Annotated[Viewer, Depends(page("assets.edit"))]
Next = Annotated[str, Form(max_length=2000)]


def verdict_context(request: Request, db: Session, viewer: Viewer, asset: Asset) -> dict[str, Any]:
    """What _verdict.html needs besides `asset`: `verdict`, each channel's status with its
    reasons in the viewer's language (names only for roles that may read people, as the
    API gives them), and the embargo day as the date field shows it."""
    assert viewer.user is not None
    settings: Settings = request.app.state.runtime.settings
    zone = ZoneInfo(settings.default_timezone)
    embargo = asset.embargo_until.astimezone(zone).date().isoformat() if asset.embargo_until else ""
    verdict = verdict_public(db, asset.id, settings=settings, user=viewer.user, lang=viewer.locale)
    return {"verdict": verdict, "embargo_day": embargo}


def _back(asset_id: str, next: str) -> Response:
    return see_other(safe_next(next, f"/assets/{asset_id}") + "#verdict")


@router.post("/assets/{asset_id}/usages")
def record_usage(
    asset_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Recorder,
    asset: PageAsset,  # 404 unless the viewer may see it
    channel: Annotated[str, Form(max_length=32)] = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    next: Next = "",
) -> Response:
    """Where the asset was published: what a withdrawal's take-down list recalls."""
    assert viewer.user is not None
    if channel not in settings.channel_list:
        flash(request, "error", viewer.gettext("Choose the channel it was published on."))
        return _back(asset_id, next)
    try:
        data = usages.UsageInput(channel=channel, url=url or None, note=note)
    except ValidationError:
        flash(
            request,
            "error",
            viewer.gettext("Give a web address that starts with http:// or https://."),
        )
        return _back(asset_id, next)
    usages.record_usage(db, asset_id=asset_id, data=data, actor=viewer.user, settings=settings)
    flash(request, "success", viewer.gettext("The publication is recorded."))
    return _back(asset_id, next)


@router.post("/assets/{asset_id}/undetected")
def mark_undetected(
    asset_id: str,
    request: Request,
    db: SessionDep,
    viewer: Editor,
    asset: PageAsset,  # 404 unless the viewer may see it
    undetected_people: Annotated[bool, Form()] = False,
    next: Next = "",
) -> Response:
    """'People on it the detector missed': while set, the asset is never cleared."""
    assert viewer.user is not None
    data = AssetUpdate.model_validate({"undetected_people": undetected_people})
    assets.update_asset(db, asset_id=asset_id, data=data, actor=viewer.user)
    message = (
        viewer.gettext("Noted: there are people on it that were not detected.")
        if undetected_people
        else viewer.gettext("Noted: every person on it was detected.")
    )
    flash(request, "success", message)
    return _back(asset_id, next)


@router.post("/assets/{asset_id}/embargo")
def set_embargo(
    asset_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Editor,
    asset: PageAsset,  # 404 unless the viewer may see it
    embargo_on: Annotated[str, Form(max_length=20)] = "",
    next: Next = "",
) -> Response:
    """Not to be published before the start of a day (local time); empty lifts it."""
    assert viewer.user is not None
    until: datetime | None = None
    if embargo_on.strip():
        try:
            day = date.fromisoformat(embargo_on.strip())
        except ValueError:
            flash(request, "error", viewer.gettext("Enter a date like 2026-12-31."))
            return _back(asset_id, next)
        until = datetime.combine(day, time(), tzinfo=ZoneInfo(settings.default_timezone))
    assets.update_asset(
        db,
        asset_id=asset_id,
        data=AssetUpdate.model_validate({"embargo_until": until}),
        actor=viewer.user,
    )
    flash(
        request,
        "success",
        viewer.gettext("The embargo is saved.") if until else viewer.gettext("No embargo."),
    )
    return _back(asset_id, next)
