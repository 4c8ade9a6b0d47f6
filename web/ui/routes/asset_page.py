"""An asset's page: the picture and one verdict summary at the top, then its parts:
details (one form, one save), people (faces to confirm or dismiss), publishing
(downloads, share links, recorded publications), and for the roles that edit, technical
data with the processing jobs, and the history."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dam import assets, audit, collections, tags
from dam.errors import DomainError, Forbidden, NotCleared
from dam.models import AssetKind, Face, User
from dam.settings import Settings
from gdpr.publishing import egress, usages
from gdpr.recognition import face_decisions, people
from web.api.schemas import local_taken_at, rendition_url
from web.api.video_schemas import playback_public
from web.deps import SessionDep, get_runtime
from web.ui import face_forms, forms, listing
from web.ui.deps import FormDep, PageAsset, TemplatesDep, csrf_protect, page
from web.ui.face_marks import face_marks
from web.ui.library_search import LibrarySearcher
from web.ui.redirects import see_other
from web.ui.routes.asset_download import download_context
from web.ui.routes.asset_verdict import verdict_context
from web.ui.routes.face_people import face_people_url
from web.ui.routes.shares import share_panel
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

HISTORY_LIMIT = 50


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
    face_typed: str = "",
    status: int = 200,
) -> Response:
    assert viewer.user is not None
    assets.get_library_asset(db, asset_id, viewer.user)  # routes check first; renders too
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
    # Names only for roles that may see people (GDPR: a viewer sees that someone is there),
    # and only of the people on this asset: the picker finds others by name as you type.
    names = (
        people.names_of(db, (f.person_id for f in view.faces if f.person_id))
        if viewer.can("people.read")
        else None
    )
    verdict = verdict_context(request, db, viewer, asset)
    if values is None:
        values = forms.asset_form_values(
            title=asset.title,
            description=asset.description,
            alt_text=asset.alt_text,
            tags=view.tags,
            licence=asset.licence or {},
            licence_status=str(asset.licence_status),
            embargo_on=verdict["embargo_day"],
            undetected_people=asset.undetected_people,
        )
    self_url = _self_url(request)
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
        licence_statuses=forms.LICENCE_STATUS_LABELS,
        playback=playback,
        faces=face_marks(view.faces, names=names, video=video),
        face_typed=face_typed,
        dismiss_labels=face_forms.DISMISS_LABELS,
        face_error=face_error,
        **download_context(request, db, viewer, asset),
        **verdict,
        self_url=self_url,
        usages=usages.list_usages(db, asset.id),
        channels=get_runtime(request).settings.channel_list,
        share_panel=(
            share_panel(request, db, get_runtime(request).settings, asset.id, back=self_url)
            if viewer.can("shares.manage") and not asset.restricted
            else None
        ),
    )


@router.get("/assets/{asset_id}")
def asset_page(
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    viewer: Viewer = Depends(page("assets.read")),
    *,
    asset: PageAsset,
) -> Response:
    return _render(request, db, viewer, templates, asset.id)


@router.post("/assets/{asset_id}")
def save_asset(
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    form: FormDep,
    viewer: Viewer = Depends(page("assets.edit")),
    *,
    asset: PageAsset,
) -> Response:
    zone = get_runtime(request).settings.default_timezone
    result = forms.parse_asset_form(form, zone=zone)
    assert viewer.user is not None
    if result.update is None:
        return _render(
            request,
            db,
            viewer,
            templates,
            asset.id,
            values=result.values,
            errors=result.errors,
            status=422,
        )
    assets.update_asset(db, asset_id=asset.id, data=result.update, actor=viewer.user)
    flash(request, "success", viewer.gettext("The changes are saved."))
    return see_other(_self_url(request))  # the top: the message, then the details part


@router.post("/assets/{asset_id}/faces/{face_id}/confirm")
def confirm_face(
    face_id: str,
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    form: FormDep,
    viewer: Viewer = Depends(page("faces.identify")),
    *,
    asset: PageAsset,
) -> Response:
    """Say who a face is: a person picked, or one typed by name (a new person: officers)."""
    assert viewer.user is not None
    face = face_decisions.face_on(db, asset.id, face_id)
    name = str(form.get("name") or "")
    if form.get("search"):  # without scripts: "Search people by name" for what was typed
        return see_other(face_people_url(request, face, name))
    try:
        face_decisions.confirm(
            db,
            face_id=face.id,
            person_id=str(form.get("person_id") or ""),
            name=name,
            actor=viewer.user,
            may_create=viewer.can("people.manage"),
        )
    except DomainError as exc:
        return _refused(request, db, viewer, templates, face, exc, typed=name)
    flash(request, "success", viewer.gettext("Face %(n)s is confirmed.", n=_number(form)))
    return _back(request, face)


@router.post("/assets/{asset_id}/faces/{face_id}/dismiss")
def dismiss_face(
    face_id: str,
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    form: FormDep,
    viewer: Viewer = Depends(page("faces.identify")),
    *,
    asset: PageAsset,
) -> Response:
    """Say a face is no face, or nobody recognisable (one of the offered reasons)."""
    assert viewer.user is not None
    face = face_decisions.face_on(db, asset.id, face_id)
    try:
        face_decisions.dismiss(
            db, face_id=face.id, reason=str(form.get("reason") or ""), actor=viewer.user
        )
    except DomainError as exc:
        return _refused(request, db, viewer, templates, face, exc)
    flash(request, "success", viewer.gettext("Face %(n)s is dismissed.", n=_number(form)))
    return _back(request, face)


def _refused(
    request: Request,
    db: SessionDep,
    viewer: Viewer,
    templates: TemplatesDep,
    face: Face,
    exc: DomainError,
    typed: str = "",
) -> Response:
    """The page again with why the decision was refused next to the face (other errors go
    to the error page)."""
    message = face_forms.problem(exc)
    if message is None:
        raise exc
    status = 403 if isinstance(exc, Forbidden) else 422
    problem = (face.id, viewer.gettext(message))
    return _render(
        request,
        db,
        viewer,
        templates,
        face.asset_id,
        face_error=problem,
        face_typed=typed[:200],  # back in the field, and what "search" looks for
        status=status,
    )


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
