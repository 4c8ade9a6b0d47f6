"""Share links in the UI: an asset's links with their state, creating one (its address is
shown once, right after), revoking one. Forms post here and come back (PRG).

The panel is the partial web/templates/shares/_asset_shares.html; this module's own page
(`/assets/<id>/shares`) shows it, and any page can include it with `share_panel(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from dam import clock
from dam.errors import InvalidInput, NotCleared
from dam.models import ShareLink
from dam.settings import Settings
from gdpr.judgement import verdict_text
from gdpr.publishing import shares
from web.deps import SessionDep, SettingsDep
from web.ui.deps import PageAsset, TemplatesDep, csrf_protect, page
from web.ui.redirects import safe_next, see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Manager = Annotated[Viewer, Depends(page("shares.manage"))]
Next = Annotated[str, Form(max_length=2000)]
# The address of a link just made, for the page the creator comes back to: the token is
# never stored, so this is the one time it can be shown.
CREATED_KEY = "share_created"
SECTION = "#shares"  # the panel's id (shares/_asset_shares.html)


@dataclass(frozen=True)
class ShareRow:
    link: ShareLink
    state: str


@dataclass(frozen=True)
class SharePanel:
    asset_id: str
    rows: list[ShareRow]
    channels: tuple[str, ...]  # the channels a link can be made for: cleared now
    not_cleared: tuple[str, ...]  # the others: a link would only show a refusal
    created: dict[str, str] | None  # {"link_id", "url", "embed"}
    today: date
    back: str  # where the panel's forms return to


def share_panel(
    request: Request, db: Session, settings: Settings, asset_id: str, *, back: str
) -> SharePanel:
    """The context of shares/_asset_shares.html for one asset (as `share_panel`)."""
    created = request.session.pop(CREATED_KEY, None)
    if not isinstance(created, dict) or created.get("asset_id") != asset_id:
        created = None
    moment = clock.now()
    channels = shares.share_channels(db, asset_id, settings=settings)
    return SharePanel(
        asset_id=asset_id,
        rows=[
            ShareRow(link, shares.state_of(link, moment))
            for link in shares.list_shares(db, asset_id)
        ],
        channels=channels.cleared,
        not_cleared=channels.not_cleared,
        created=created,
        today=clock.today(settings.default_timezone),
        back=back,
    )


@router.get("/assets/{asset_id}/shares")
def shares_page(
    asset_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Manager,
    asset: PageAsset,  # 404 unless the viewer may see it
    templates: TemplatesDep,
) -> Response:
    panel = share_panel(request, db, settings, asset_id, back=request.url.path)
    return templates.render(request, "shares/page.html", viewer, asset=asset, share_panel=panel)


def _form_error(viewer: Viewer, exc: ValidationError) -> str:
    fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    if "password" in fields:
        return viewer.gettext(
            "A password needs at least %(count)s characters.", count=shares.MIN_PASSWORD_LENGTH
        )
    return viewer.gettext("The form is not valid.")


def _parse_day(value: str) -> date | None:
    return date.fromisoformat(value) if value.strip() else None


@router.post("/assets/{asset_id}/shares")
def create_share(
    asset_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Manager,
    asset: PageAsset,  # 404 unless the viewer may see it
    channel: Annotated[str, Form(max_length=32)] = "",
    expires_on: Annotated[str, Form(max_length=20)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Next = "",
) -> Response:
    assert viewer.user is not None
    # Back to the links' section: on the asset page, the publishing part holding it is the
    # one shown (js/asset-tabs.js), so the link just made is in sight, not in a hidden tab.
    back = safe_next(next, f"/assets/{asset_id}/shares") + SECTION
    if channel not in settings.channel_list:
        flash(request, "error", viewer.gettext("Choose a channel for the link."))
        return see_other(back)
    try:
        day = _parse_day(expires_on)
    except ValueError:
        flash(request, "error", viewer.gettext("Enter a date like 2026-12-31."))
        return see_other(back)
    if day is not None and day < clock.today(settings.default_timezone):
        flash(
            request,
            "error",
            viewer.gettext("The expiry date lies in the past; choose a later one."),
        )
        return see_other(back)
    try:
        data = shares.ShareInput(channel=channel, expires_at=day, password=password or None)
    except ValidationError as exc:
        flash(request, "error", _form_error(viewer, exc))
        return see_other(back)
    try:
        created = shares.create_share(
            db, asset_id=asset_id, data=data, actor=viewer.user, settings=settings
        )
    except NotCleared:  # a link would only show visitors a refusal
        flash(
            request,
            "error",
            viewer.gettext(
                "No link was made: this asset is not cleared for %(channel)s. The "
                "verdict at the top of its page says why.",
                channel=verdict_text.channel_label(channel, viewer.locale),
            ),
        )
        return see_other(back)
    except InvalidInput as exc:  # what the form cannot check itself (consent evidence)
        flash(
            request,
            "error",
            viewer.gettext("The link was not made: %(why)s", why=viewer.explain(exc)),
        )
        return see_other(back)
    base = str(request.base_url)
    request.session[CREATED_KEY] = {
        "asset_id": asset_id,
        "link_id": created.link.id,
        "url": shares.share_url(base, created.token),
        "embed": shares.share_url(base, created.token, embed=True),
    }
    flash(
        request,
        "success",
        viewer.gettext("The link is made. Copy it now: it is shown only this once."),
    )
    return see_other(back)


@router.post("/shares/{link_id}/revoke")
def revoke_share(
    link_id: str,
    request: Request,
    db: SessionDep,
    viewer: Manager,
    next: Next = "",
) -> Response:
    assert viewer.user is not None
    link = shares.revoke_share(db, link_id=link_id, actor=viewer.user)
    flash(request, "success", viewer.gettext("The link is revoked: it no longer works."))
    return see_other(safe_next(next, f"/assets/{link.asset_id}/shares") + SECTION)
