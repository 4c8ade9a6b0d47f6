"""The privacy dashboard (privacy officers): notices, assets to review, consents about to
end, withdrawals with publications to recall, exports and erasures done; and the audit
log with filters and a chain check.

Plain forms (CSRF, redirect after post, flash messages). The lists come from
gdpr.dashboard; the review flow itself is in privacy_review.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from dam import audit
from dam.auth import get_user_by_email
from dam.errors import NotFound
from gdpr import dashboard
from gdpr.consent import notifications
from gdpr.recognition import people_overview, people_search
from gdpr.requests import person_requests
from web.deps import SessionDep, SettingsDep
from web.ui import audit_filters, i18n, nav
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.labels import N_
from web.ui.redirects import safe_next, see_other
from web.ui.templating import Viewer, flash
from web.ui.tile_pages import TileLinks, TilePage

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Officer = Annotated[Viewer, Depends(page("consents.manage"))]
Auditor = Annotated[Viewer, Depends(page("audit.read"))]
Next = Annotated[str, Form(max_length=2000)]

REVIEW_SHOWN = 12  # thumbnails on the dashboard; the review flow walks all of them
FOUND_SHOWN = 10  # people found to start an export or erasure for
REQUESTS_SHOWN = 10
REVIEW_LINK = "/privacy/review?asset={id}"


def unread_badge(request: Request) -> int:
    """The unread notices next to "Privacy" in the menu (one COUNT on a small table)."""
    session = getattr(request.state, "db", None)
    if session is None:
        return 0
    try:
        return notifications.unread_count(session)
    except SQLAlchemyError:  # a menu badge must never take a page (or its error page) down
        return 0


NAV_ITEM = nav.NavItem(N_("Privacy"), "/privacy", "consents.manage", order=50, badge=unread_badge)


@router.get("/privacy")
def dashboard_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Officer,
    templates: TemplatesDep,
) -> Response:
    zone = settings.default_timezone
    unread = notifications.unread(db, limit=50)
    read = dashboard.recent_read_notices(db, limit=10)
    exports = dashboard.exports_done(db)
    erasures = dashboard.erasures_done(db)
    actors = [e.actor_id for e in exports] + [t.executed_by for t in erasures]
    wanted = request.query_params.get("person", "")[:200].strip()
    assert viewer.user is not None
    found = (
        people_search.find_people(db, text=wanted, viewer=viewer.user, limit=FOUND_SHOWN).matches
        if wanted
        else []
    )
    running = person_requests.recent_requests(db, limit=REQUESTS_SHOWN)
    return templates.render(
        request,
        "privacy/dashboard.html",
        viewer,
        notices=[
            (n, notifications.text(n, viewer.locale, zone), notifications.link(n))
            for n in [*unread, *read]
        ],
        unread_total=notifications.unread_count(db),
        review_total=dashboard.review_count(db),
        review=_review_tiles(viewer, dashboard.review_assets(db, limit=REVIEW_SHOWN)),
        ending=dashboard.consents_ending(db, days=settings.consent_notice_days),
        notice_days=settings.consent_notice_days,
        withdrawn=dashboard.withdrawn_published(db),
        exports=exports,
        erasures=erasures,
        emails=dashboard.emails(db, actors),
        wanted=wanted,
        found=found,
        person_requests=running,
        request_names=people_overview.names_of(db, [r.job.person_id for r in running]),
    )


def _review_tiles(viewer: Viewer, rows: list[dashboard.ReviewAsset]) -> TilePage:
    """The assets to review as the library's tiles, each opening the review flow."""
    notes = {
        row.asset.id: viewer.ngettext(
            "%(num)s face to review",
            "%(num)s faces to review",
            row.undecided,
        )
        for row in rows
    }
    return TilePage([row.asset for row in rows], TileLinks(REVIEW_LINK), notes)


@router.post("/privacy/notices/{notice_id}/read")
def read_notice(
    notice_id: str,
    request: Request,
    db: SessionDep,
    viewer: Officer,
    next: Next = "/privacy#notices",
) -> Response:
    assert viewer.user is not None
    notifications.mark_read(db, notice_id, viewer.user)
    flash(request, "success", viewer.gettext("The notice is marked as read."))
    return see_other(safe_next(next, "/privacy#notices"))


@router.get("/privacy/audit")
def audit_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Auditor,
    templates: TemplatesDep,
) -> Response:
    wanted = audit_filters.parse(request.query_params)
    errors = dict(wanted.errors)
    actor_id = None
    if wanted.actor and "actor" not in errors:
        try:
            actor_id = get_user_by_email(db, wanted.actor).id
        except NotFound:
            errors["actor"] = N_("Nobody has this e-mail address.")
    entries = []
    if not errors:
        zone = settings.default_timezone
        entries = audit.list_entries(
            db,
            action=wanted.action or None,
            actor_id=actor_id,
            subject_id=wanted.subject or None,
            since=wanted.since_moment(zone),
            until=wanted.until_moment(zone),
            before_seq=wanted.before,
            limit=audit_filters.PAGE_SIZE + 1,
        )
    more = len(entries) > audit_filters.PAGE_SIZE
    entries = entries[: audit_filters.PAGE_SIZE]
    return templates.render(
        request,
        "privacy/audit.html",
        viewer,
        status=422 if errors else 200,
        wanted=wanted,
        errors=errors,
        entries=entries,
        older_url=wanted.url("/privacy/audit", before=entries[-1].seq) if more else None,
        actions=dashboard.audit_actions(db),
        emails=dashboard.emails(db, [e.actor_id for e in entries]),
    )


@router.post("/privacy/audit/verify")
def verify_chain(
    request: Request,
    db: SessionDep,
    viewer: Auditor,
    next: Next = "/privacy/audit",
) -> Response:
    """Recompute the whole chain (dam.audit.verify) and say what was found."""
    result = audit.verify(db)
    if result.ok:
        message = viewer.ngettext(
            "The chain is intact: %(num)s entry checked.",
            "The chain is intact: %(num)s entries checked.",
            result.entries,
        )
        flash(request, "success", message)
    else:
        message = viewer.gettext(
            "The chain is broken at entry %(seq)s: it or an entry before it was changed "
            "or removed (%(num)s entries checked).",
            seq=result.first_bad,
            num=i18n.format_number(result.entries, viewer.locale),
        )
        flash(request, "error", message)
    return see_other(safe_next(next, "/privacy/audit"))
