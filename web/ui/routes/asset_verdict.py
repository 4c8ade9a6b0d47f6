"""An asset's verdict on its page (web/templates/_verdict.html: one summary, channels
with equal reasons together) and recording where it was published (the publishing part).
Whether people the detector missed are on it and its embargo are part of the details
form (asset_page.py).

The form posts here and goes back to the asset page (PRG); the change feed re-judges the
verdict after the commit (within a second; the page judges afresh meanwhile only past a
deadline).
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from dam.models import Asset
from dam.settings import Settings
from gdpr.judgement import verdict_outlook
from gdpr.publishing import usages
from web.api.verdict_schemas import verdict_public
from web.deps import SessionDep, SettingsDep
from web.ui import verdict_summary
from web.ui.deps import PageAsset, csrf_protect, page
from web.ui.redirects import safe_next, see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Recorder = Annotated[Viewer, Depends(page("usages.record"))]
Next = Annotated[str, Form(max_length=2000)]


def verdict_context(request: Request, db: Session, viewer: Viewer, asset: Asset) -> dict[str, Any]:
    """What _verdict.html needs besides `asset`: `verdict`, each channel's status with its
    reasons in the viewer's language (names only for roles that may read people, as the
    API gives them), `verdict_groups` (channels with equal reasons together, and what
    changes by itself), and the embargo day as the date field shows it."""
    assert viewer.user is not None
    settings: Settings = request.app.state.runtime.settings
    zone = ZoneInfo(settings.default_timezone)
    embargo = asset.embargo_until.astimezone(zone).date().isoformat() if asset.embargo_until else ""
    verdict = verdict_public(db, asset.id, settings=settings, user=viewer.user, lang=viewer.locale)
    changes = verdict_outlook.changes_by_itself(db, asset.id, settings=settings)
    return {
        "verdict": verdict,
        "verdict_groups": verdict_summary.group(verdict, changes),
        "embargo_day": embargo,
    }


def _back(asset_id: str, next: str) -> Response:
    """Back to the asset page's publishing part, where the publications are listed."""
    return see_other(safe_next(next, f"/assets/{asset_id}") + "#publishing")


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
