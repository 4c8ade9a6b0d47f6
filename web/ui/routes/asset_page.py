"""An asset's page: preview or video player, faces (confirm, dismiss), metadata form,
renditions, technical data, jobs, history."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from dam import assets, audit, collections, tags
from dam.auth import check_permission
from dam.errors import NotCleared, NotFound
from dam.models import AssetKind, Face, User
from dam.settings import Settings
from gdpr import egress, identity, people
from web.api.schemas import local_taken_at, rendition_url
from web.api.video import playback_public
from web.deps import SessionDep, get_runtime
from web.ui import forms, listing
from web.ui.deps import FormDep, TemplatesDep, csrf_protect, page
from web.ui.face_marks import face_marks
from web.ui.labels import N_
from web.ui.library_search import LibrarySearcher
from web.ui.redirects import see_other
from web.ui.routes.asset_verdict import verdict_context
from web.ui.routes.shares import share_panel
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

HISTORY_LIMIT = 50
# Offered as suggestions in the dismiss form (any other reason can be typed).
DISMISS_REASONS = (N_("Not a face"), N_("Not recognisable"), N_("A picture of a picture"))


def _render(
    request: Request,
    db: SessionDep,
    viewer: Viewer,
    templates: TemplatesDep,
    asset_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    face_error: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    assert viewer.user is not None
    assets.get_visible_asset(db, asset_id, viewer.user)  # consent evidence: officers only
    view = assets.asset_view(db, asset_id)
    asset = view.asset
    query = listing.LibraryQuery.from_params(request.query_params)
    index = request.query_params.get("i", "")
    around = (
        listing.neighbours(
            db,
            query,
            asset_id=asset.id,
            index=int(index),
            owner_id=viewer.user.id,
            searcher=LibrarySearcher(request, viewer.user),  # a search's results, in order
        )
        if index.isdigit() and len(index) <= 7  # a position, not a number to overflow SQL with
        else None
    )
    history = audit.list_entries(db, subject_id=asset.id, limit=HISTORY_LIMIT)
    actor_ids = {e.actor_id for e in history if e.actor_id}
    actors = {u.id: u.email for u in (db.get(User, a) for a in actor_ids) if u is not None}
    renditions = {r.name: r for r in view.renditions}
    video = asset.kind == AssetKind.video
    may_load = _loadable(db, viewer.user, asset.id, get_runtime(request).settings)
    playback = playback_public(db, asset.id) if video else None
    if playback is not None:  # the player must not switch to a file it may not have
        playback.sources = [s for s in playback.sources if may_load(s.name)]
    # Names only for roles that may see people (GDPR: a viewer sees that someone is there).
    known = people.list_people(db) if viewer.can("people.read") else None
    names = {p.id: p.name for p, _ in known} if known is not None else None
    if values is None:
        values = forms.asset_form_values(
            title=asset.title,
            description=asset.description,
            alt_text=asset.alt_text,
            tags=view.tags,
            licence=asset.licence or {},
        )
    return templates.render(
        request,
        "asset.html",
        viewer,
        status=status,
        asset=asset,
        tags=view.tags,
        renditions=view.renditions,
        preview_url=rendition_url(asset.id, "preview") if "preview" in renditions else None,
        large_url=(
            rendition_url(asset.id, "large")
            if "large" in renditions and may_load("large")  # else zoom into the preview
            else None
        ),
        rendition_url=rendition_url,
        taken_at=local_taken_at(asset),
        meta=asset.meta or {},
        jobs=assets.jobs_of(db, asset.id),
        history=history,
        actors=actors,
        around=around,
        back_url=query.url(f"/collections/{query.collection_id}" if query.collection_id else "/"),
        in_collections=collections.collections_of(db, asset.id),
        tag_suggestions=tags.popular_tags(db, limit=200),
        values=values,
        errors=errors or {},
        alt_advised=forms.ALT_ADVISED,
        playback=playback,
        faces=face_marks(view.faces, names=names, video=video),
        people_choice=[(p.id, p.name) for p, _ in known or []],
        dismiss_reasons=DISMISS_REASONS,
        face_error=face_error,
        **verdict_context(request, db, viewer, asset),
        share_panel=(
            share_panel(
                request, db, get_runtime(request).settings, asset.id, back=f"/assets/{asset.id}"
            )
            if viewer.can("shares.manage") and not asset.restricted
            else None
        ),
    )


@router.get("/assets/{asset_id}")
def asset_page(
    asset_id: str,
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    viewer: Viewer = Depends(page("assets.read")),
) -> Response:
    return _render(request, db, viewer, templates, asset_id)


@router.post("/assets/{asset_id}")
def save_asset(
    asset_id: str,
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    form: FormDep,
    viewer: Viewer = Depends(page("assets.edit")),
) -> Response:
    result = forms.parse_asset_form(form)
    assert viewer.user is not None
    if result.update is None:
        return _render(
            request,
            db,
            viewer,
            templates,
            asset_id,
            values=result.values,
            errors=result.errors,
            status=422,
        )
    assets.update_asset(db, asset_id=asset_id, data=result.update, actor=viewer.user)
    flash(request, "success", viewer.gettext("The changes are saved."))
    return see_other(_self_url(request))


@router.post("/assets/{asset_id}/faces/{face_id}/confirm")
def confirm_face(
    asset_id: str,
    face_id: str,
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    form: FormDep,
    viewer: Viewer = Depends(page("faces.identify")),
) -> Response:
    """Say who a face is: an existing person, or (privacy officers) a new one by name."""
    assert viewer.user is not None
    face = _face_of(db, asset_id, face_id)
    person_id = str(form.get("person_id") or "").strip()
    new_name = " ".join(str(form.get("new_name") or "").split())
    if new_name:
        check_permission(viewer.user, "people.manage")  # creating people is theirs
        try:
            data = people.PersonCreate.model_validate({"name": new_name})
        except ValidationError:
            problem = viewer.gettext("A name has at most 200 characters.")
            return _render(
                request, db, viewer, templates, asset_id, face_error=(face.id, problem), status=422
            )
        person_id = people.create_person(db, data=data, actor=viewer.user).id
    if not person_id:
        problem = viewer.gettext("Choose a person, or type a new name.")
        return _render(
            request, db, viewer, templates, asset_id, face_error=(face.id, problem), status=422
        )
    identity.confirm_face(db, face_id=face.id, person_id=person_id, actor=viewer.user)
    flash(request, "success", viewer.gettext("Face %(n)s is confirmed.", n=_number(form)))
    return _back(request, face)


@router.post("/assets/{asset_id}/faces/{face_id}/dismiss")
def dismiss_face(
    asset_id: str,
    face_id: str,
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    form: FormDep,
    viewer: Viewer = Depends(page("faces.identify")),
) -> Response:
    """Say a face is no face, or nobody recognisable (with the reason)."""
    assert viewer.user is not None
    face = _face_of(db, asset_id, face_id)
    reason = " ".join(str(form.get("reason") or "").split())
    if not reason:
        problem = viewer.gettext("Say why the face is dismissed.")
        return _render(
            request, db, viewer, templates, asset_id, face_error=(face.id, problem), status=422
        )
    identity.dismiss_face(db, face_id=face.id, reason=reason[:200], actor=viewer.user)
    flash(request, "success", viewer.gettext("Face %(n)s is dismissed.", n=_number(form)))
    return _back(request, face)


def _loadable(
    db: SessionDep, user: User, asset_id: str, settings: Settings
) -> Callable[[str], bool]:
    """Whether this viewer's browser may load a rendition: files beyond what the pages show
    leave the system, and the egress check decides (a not-cleared photo has no `large`)."""

    def may_load(name: str) -> bool:
        try:
            egress.check_file_access(db, user, asset_id, name, settings=settings)
        except NotCleared:
            return False
        return True

    return may_load


def _face_of(db: SessionDep, asset_id: str, face_id: str) -> Face:
    face = identity.get_face(db, face_id)
    if face.asset_id != asset_id:
        raise NotFound("There is no face with this id.")
    return face


def _number(form: FormDep) -> str:
    """The face's number on the page (the form sends it back), for the message."""
    number = str(form.get("number") or "")
    return number if number.isdigit() and len(number) <= 4 else "?"


def _back(request: Request, face: Face) -> Response:
    """Back to the asset page (with its result-set parameters), at the face."""
    query = request.url.query
    return see_other(f"/assets/{face.asset_id}{'?' + query if query else ''}#face-{face.id}")


def _self_url(request: Request) -> str:
    """The page the form was posted from, with its result-set parameters."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
