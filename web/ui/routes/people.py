"""People: the list with unnamed groups to name, and one person's page with suggestions.

Plain forms (CSRF, redirect after post, flash messages); people.js and person.js speed
up the same actions. Every decision is a gdpr service call, which audits it by id.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from dam.assets import RESTRICTED_PERMISSION
from dam.errors import DomainError
from gdpr.recognition import (
    cluster_naming,
    face_decisions,
    identity,
    people,
    people_overview,
    people_search,
)
from gdpr.requests import person_requests
from web.deps import SessionDep
from web.ui import face_forms, nav
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.labels import N_
from web.ui.people_list import PeopleListing, PeopleQuery
from web.ui.redirects import safe_next, see_other
from web.ui.routes.consents import consent_panel
from web.ui.templating import Viewer, flash
from web.ui.tile_pages import TilePage

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
NAV_ITEM = nav.NavItem(N_("People"), "/people", "people.read", order=40)

Reader = Annotated[Viewer, Depends(page("people.read"))]
Identifier = Annotated[Viewer, Depends(page("faces.identify"))]
Manager = Annotated[Viewer, Depends(page("people.manage"))]
Text = Annotated[str, Form(max_length=10_000)]
Back = Annotated[str, Form(max_length=2000)]

NAME_MAX, NOTES_MAX, EMAIL_MAX = 200, 5000, 320  # as gdpr.recognition.people.PersonCreate
MERGE_SHOWN = 20  # people offered to merge with, without scripts

# Service errors the forms can cause, in the viewer's language: the face decisions' words,
# with the People pages' own for a name (they name groups, not one face).
ERRORS = face_forms.PROBLEMS | {
    "ambiguous_name": N_(
        "Several people have this name. Open one of them and add the faces there."
    ),
    "may_not_create_people": N_(
        "Only a privacy officer can add a person. Pick a name from the list of people."
    ),
    "no_groups": N_("Select one or more groups first."),
    "not_found": N_("This was changed or removed meanwhile. Look at the page again."),
    "conflict": N_("This was changed meanwhile. Look at the page again."),
}


def _error(request: Request, viewer: Viewer, exc: DomainError) -> None:
    message = ERRORS.get(exc.code)
    flash(request, "error", viewer.gettext(message) if message else viewer.explain(exc))


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) <= 6 else 1


@router.get("/people")
def people_list(
    request: Request, db: SessionDep, viewer: Reader, templates: TemplatesDep
) -> Response:
    return _render_list(request, db, viewer, templates)


def _render_list(
    request: Request,
    db: SessionDep,
    viewer: Viewer,
    templates: TemplatesDep,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """One page of people (searched by name) and one page of unnamed groups."""
    assert viewer.user is not None
    wanted = PeopleQuery.from_params(request.query_params)
    found = people_overview.people_page(db, text=wanted.q, viewer=viewer.user, page=wanted.page)
    groups = people_overview.cluster_page(db, page=wanted.groups)
    query = replace(wanted, page=found.paging.page, groups=groups.paging.page)
    return templates.render(
        request,
        "people/list.html",
        viewer,
        status=status,
        listing=PeopleListing(found, query),
        query=query,
        groups=groups,
        reasons=face_forms.DISMISS_LABELS,
        values=values or {"name": "", "notes": "", "is_minor": False},
        errors=errors or {},
    )


@router.post("/people")
def create_person(
    request: Request,
    db: SessionDep,
    viewer: Manager,
    templates: TemplatesDep,
    name: Text = "",
    notes: Text = "",
    is_minor: Annotated[bool, Form()] = False,
) -> Response:
    assert viewer.user is not None
    values: dict[str, object] = {"name": name, "notes": notes, "is_minor": is_minor}
    errors = _person_errors(name=name, notes=notes)
    if errors:
        return _render_list(
            request, db, viewer, templates, values=values, errors=errors, status=422
        )
    data = people.PersonCreate(name=name, notes=notes, is_minor=is_minor, email=None)
    person = people.create_person(db, data=data, actor=viewer.user)
    flash(request, "success", viewer.gettext("%(name)s added.", name=person.name))
    return see_other(f"/people/{person.id}")


def _person_errors(*, name: str, notes: str, email: str = "") -> dict[str, str]:
    """The person form's problems per field (message ids), as gdpr.recognition.people checks."""
    errors = {}
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        errors["name"] = N_("Type a name of at most 200 characters.")
    if len(notes) > NOTES_MAX:
        errors["notes"] = N_("Notes can be at most 5,000 characters long.")
    if len(email.strip()) > EMAIL_MAX:
        errors["email"] = N_("An e-mail address can be at most 320 characters long.")
    return errors


@router.post("/people/groups")
def name_groups(
    request: Request,
    db: SessionDep,
    viewer: Identifier,
    cluster_ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    name: Text = "",
    person_id: Annotated[str, Form(max_length=64)] = "",
    back: Back = "/people",
) -> Response:
    """Name one group (its own form) or every selected group (the bulk bar) at once: as the
    person picked (person-picker.js), else by the name typed."""
    assert viewer.user is not None
    target = safe_next(back, "/people")
    try:
        done = cluster_naming.name_clusters(
            db,
            cluster_ids=cluster_ids,
            name=name,
            actor=viewer.user,
            may_create=viewer.can("people.manage"),
            person_id=person_id,
        )
    except DomainError as exc:
        _error(request, viewer, exc)
        return see_other(target)
    message = viewer.ngettext(
        "%(num)s face confirmed as %(name)s.",
        "%(num)s faces confirmed as %(name)s.",
        done.confirmed,
        name=done.person.name,
    )
    flash(request, "success", message)
    if done.gone:
        flash(request, "error", viewer.gettext(ERRORS["not_found"]))
    return see_other(target)


@router.post("/people/faces/{face_id}/ungroup")
def ungroup_face(
    face_id: str, request: Request, db: SessionDep, viewer: Identifier, back: Back = "/people"
) -> Response:
    assert viewer.user is not None
    try:
        cluster_naming.take_out_of_cluster(db, face_id=face_id, actor=viewer.user)
        flash(request, "success", viewer.gettext("The face is now a group of its own."))
    except DomainError as exc:
        _error(request, viewer, exc)
    return see_other(safe_next(back, "/people"))


@router.post("/people/faces/{face_id}/dismiss")
def dismiss_face(
    face_id: str,
    request: Request,
    db: SessionDep,
    viewer: Identifier,
    reason: Annotated[str, Form(max_length=100)] = "",
    back: Back = "/people",
) -> Response:
    assert viewer.user is not None
    try:
        face_decisions.dismiss(db, face_id=face_id, reason=reason, actor=viewer.user)
        flash(request, "success", viewer.gettext("The face is dismissed."))
    except DomainError as exc:
        _error(request, viewer, exc)
    return see_other(safe_next(back, "/people"))


def _render_person(
    request: Request,
    db: SessionDep,
    viewer: Viewer,
    templates: TemplatesDep,
    person_id: str,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    view = people_overview.person_page(
        db,
        person_id,
        page=_page_number(request),
        include_restricted=viewer.can(RESTRICTED_PERMISSION),
    )
    person = view.person
    return templates.render(
        request,
        "people/person.html",
        viewer,
        status=status,
        view=view,
        person=person,
        tiles=TilePage(view.assets, first_index=(view.paging.page - 1) * view.paging.per_page),
        values=values
        or {
            "name": person.name,
            "email": person.email or "",
            "notes": person.notes,
            "is_minor": person.is_minor,
        },
        errors=errors or {},
        consent_panel=consent_panel(db, request.app.state.runtime.settings, person_id)
        if viewer.can("consents.manage")
        else None,
        person_requests=person_requests.requests_of(db, person_id, limit=5)
        if viewer.can("privacy.export")
        else None,
    )


@router.get("/people/{person_id}")
def person_page(
    person_id: str, request: Request, db: SessionDep, viewer: Reader, templates: TemplatesDep
) -> Response:
    return _render_person(request, db, viewer, templates, person_id)


@router.post("/people/{person_id}")
def edit_person(
    person_id: str,
    request: Request,
    db: SessionDep,
    viewer: Manager,
    templates: TemplatesDep,
    name: Text = "",
    email: Text = "",
    notes: Text = "",
    is_minor: Annotated[bool, Form()] = False,
) -> Response:
    assert viewer.user is not None
    values: dict[str, object] = {"name": name, "email": email, "notes": notes, "is_minor": is_minor}
    errors = _person_errors(name=name, notes=notes, email=email)
    if errors:
        return _render_person(
            request, db, viewer, templates, person_id, values=values, errors=errors, status=422
        )
    data = people.PersonUpdate(
        name=" ".join(name.split()), email=email.strip() or None, notes=notes, is_minor=is_minor
    )
    people.update_person(db, person_id=person_id, data=data, actor=viewer.user)
    flash(request, "success", viewer.gettext("The changes are saved."))
    return see_other(f"/people/{person_id}")


@router.post("/people/{person_id}/suggestions/{face_id}")
def decide_suggestion(
    person_id: str,
    face_id: str,
    request: Request,
    db: SessionDep,
    viewer: Identifier,
    decision: Annotated[Literal["confirm", "reject"], Form()],
) -> Response:
    """Without scripts: confirm or reject one suggestion (person.js calls the API instead)."""
    assert viewer.user is not None
    try:
        if decision == "confirm":
            identity.confirm_face(db, face_id=face_id, person_id=person_id, actor=viewer.user)
            flash(request, "success", viewer.gettext("Confirmed."))
        else:
            identity.split_face(db, face_id=face_id, actor=viewer.user)
            flash(request, "success", viewer.gettext("Rejected: not this person."))
    except DomainError as exc:
        _error(request, viewer, exc)
    return see_other(f"/people/{person_id}#suggestions")


@router.get("/people/{person_id}/merge")
def merge_candidates(
    person_id: str,
    request: Request,
    db: SessionDep,
    viewer: Manager,
    templates: TemplatesDep,
    name: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Without scripts: the people whose name matches what was typed in the merge field,
    each a button that opens the confirmation (person-picker.js offers them as you type)."""
    assert viewer.user is not None
    person = identity.get_person(db, person_id)
    typed = " ".join(name.split())
    found = people_search.find_people(
        db, text=typed, viewer=viewer.user, limit=MERGE_SHOWN, exclude=person_id
    )
    return templates.render(
        request, "people/merge_with.html", viewer, person=person, typed_name=typed, found=found
    )


@router.post("/people/{person_id}/merge")
def merge_person(
    person_id: str,
    request: Request,
    db: SessionDep,
    viewer: Manager,
    templates: TemplatesDep,
    other_id: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Merge `other_id` into this person, after a confirmation page; a name typed without
    choosing anyone (no scripts) opens the page of people with that name first."""
    assert viewer.user is not None
    person = identity.get_person(db, person_id)
    if not other_id and name.strip():
        query = urlencode({"name": " ".join(name.split())})
        return see_other(f"/people/{person_id}/merge?{query}")
    if not other_id or other_id == person_id:
        flash(request, "error", viewer.gettext("Choose the person to merge with."))
        return see_other(f"/people/{person_id}#merge")
    other = identity.get_person(db, other_id)
    if confirm != "yes":
        return templates.render(
            request, "people/confirm_merge.html", viewer, person=person, other=other
        )
    people.merge_people(db, person_id=person_id, other_id=other_id, actor=viewer.user)
    flash(request, "success", viewer.gettext("The two people are merged."))
    return see_other(f"/people/{person_id}")


@router.post("/people/{person_id}/embeddings")
def delete_embeddings(
    person_id: str,
    request: Request,
    db: SessionDep,
    viewer: Manager,
    templates: TemplatesDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Delete the person's biometric data, after a confirmation page."""
    assert viewer.user is not None
    person = identity.get_person(db, person_id)
    if confirm != "yes":
        return templates.render(request, "people/confirm_embeddings.html", viewer, person=person)
    count = people.delete_embeddings(db, person_id=person_id, actor=viewer.user)
    flash(
        request,
        "success",
        viewer.ngettext(
            "The biometric data of %(num)s face is deleted.",
            "The biometric data of %(num)s faces is deleted.",
            count,
        ),
    )
    return see_other(f"/people/{person_id}")
