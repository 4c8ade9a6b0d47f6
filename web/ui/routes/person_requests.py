"""Access exports and erasures from the UI (privacy officers): started on the person page
or the privacy dashboard, run as jobs (gdpr.requests.person_requests), followed on their own page.

Erasure first shows what it will touch, naming the person, and goes ahead only once the
officer typed the name and chose redact or delete. The export's ZIP leaves through the
API's gate route (/api/v1/privacy/exports/{id}), audited, for 24 hours.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from dam import clock
from dam.errors import Conflict, InvalidInput
from dam.models import Person
from gdpr.requests import erasure, person_requests
from web.deps import SessionDep
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.labels import N_
from web.ui.redirects import see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Exporter = Annotated[Viewer, Depends(page("privacy.export"))]
Eraser = Annotated[Viewer, Depends(page("people.erase"))]

# What the erasure form says about a refusal, in the viewer's language.
ERASE_PROBLEMS = {
    "confirm_name": N_("Type the name exactly as it is written above to confirm."),
    "choice": N_("Choose what happens to the photos and videos."),
}


def request_url(job_id: str) -> str:
    return f"/privacy/requests/{job_id}"


@router.post("/people/{person_id}/export")
def start_export(person_id: str, request: Request, db: SessionDep, viewer: Exporter) -> Response:
    assert viewer.user is not None
    job = person_requests.request_export(db, person_id=person_id, actor=viewer.user)
    flash(request, "success", viewer.gettext("The access export has started."))
    return see_other(request_url(job.id))


@router.get("/people/{person_id}/erase")
def erase_page(
    person_id: str, request: Request, db: SessionDep, viewer: Eraser, templates: TemplatesDep
) -> Response:
    return _erase_form(request, db, viewer, templates, person_id)


@router.post("/people/{person_id}/erase")
def erase(
    person_id: str,
    request: Request,
    db: SessionDep,
    viewer: Eraser,
    templates: TemplatesDep,
    assets: Annotated[str, Form(max_length=16)] = "",
    confirm_name: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    assert viewer.user is not None
    values = {"assets": assets, "confirm_name": confirm_name}
    try:
        choice = erasure.AssetsChoice(assets)
    except ValueError:
        return _erase_form(
            request, db, viewer, templates, person_id, values, {"assets": ERASE_PROBLEMS["choice"]}
        )
    try:
        job = person_requests.request_erasure(
            db, person_id=person_id, assets=choice, confirm_name=confirm_name, actor=viewer.user
        )
    except InvalidInput as exc:
        field = str(exc.details.get("field", "confirm_name"))
        problems = {field: ERASE_PROBLEMS.get(field, ERASE_PROBLEMS["confirm_name"])}
        return _erase_form(request, db, viewer, templates, person_id, values, problems)
    except Conflict:
        flash(request, "error", viewer.gettext("An erasure of this person is under way already."))
        return see_other(f"/people/{person_id}")
    flash(request, "success", viewer.gettext("The erasure has started."))
    return see_other(request_url(job.id))


def _erase_form(
    request: Request,
    db: SessionDep,
    viewer: Viewer,
    templates: TemplatesDep,
    person_id: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    impact = person_requests.erasure_impact(db, person_id)
    values = values or {"assets": "", "confirm_name": ""}
    return templates.render(
        request,
        "privacy/erase.html",
        viewer,
        status=422 if errors else 200,
        impact=impact,
        values=values,
        errors={k: viewer.gettext(v) for k, v in (errors or {}).items()},
    )


@router.get("/privacy/requests/{job_id}")
def request_page(
    job_id: str, request: Request, db: SessionDep, viewer: Exporter, templates: TemplatesDep
) -> Response:
    assert viewer.user is not None
    found = person_requests.get_request(db, job_id, viewer.user)
    person = db.get(Person, found.job.person_id) if found.job.person_id else None
    return templates.render(
        request,
        "privacy/request.html",
        viewer,
        found=found,
        person=person,
        available=found.available(clock.now()),
    )
