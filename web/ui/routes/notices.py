"""A colleague's own notices (creatives): a photo or video they uploaded or published
became blocked, and what to take down (gdpr.consent.creative_notices). The privacy officers'
shared notices are on the privacy dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from dam.models import Asset
from gdpr.consent import creative_notices
from web.deps import SessionDep
from web.ui import nav
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.labels import N_
from web.ui.redirects import safe_next, see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Reader = Annotated[Viewer, Depends(page("usages.record"))]
Next = Annotated[str, Form(max_length=2000)]


def unread_badge(request: Request) -> int:
    """The viewer's unread notices next to "Notices" in the menu."""
    session = getattr(request.state, "db", None)
    viewer = getattr(request.state, "viewer", None)
    if session is None or viewer is None or viewer.user is None:
        return 0
    try:
        return creative_notices.unread_count_for(session, viewer.user.id)
    except SQLAlchemyError:  # a menu badge must never take a page down
        return 0


NAV_ITEM = nav.NavItem(N_("Notices"), "/notices", "usages.record", order=35, badge=unread_badge)


@router.get("/notices")
def notices_page(
    request: Request, db: SessionDep, viewer: Reader, templates: TemplatesDep
) -> Response:
    assert viewer.user is not None
    found = creative_notices.unread_for(db, viewer.user.id)
    titles = {
        a.id: a.title or a.filename
        for a in (db.get(Asset, n.subject_id) for n in found)
        if a is not None
    }
    return templates.render(
        request,
        "notices.html",
        viewer,
        notices=[
            (
                n,
                creative_notices.text(n, viewer.locale, titles.get(n.subject_id, "")),
                creative_notices.link(n) if n.subject_id in titles else None,
            )
            for n in found
        ],
    )


@router.post("/notices/{notice_id}/read")
def read_notice(
    notice_id: str, request: Request, db: SessionDep, viewer: Reader, next: Next = "/notices"
) -> Response:
    assert viewer.user is not None
    creative_notices.mark_read(db, notice_id, viewer.user.id)
    flash(request, "success", viewer.gettext("The notice is marked as read."))
    return see_other(safe_next(next, "/notices"))
