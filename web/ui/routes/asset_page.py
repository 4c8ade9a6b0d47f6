"""An asset's page: preview, metadata form, renditions, technical data, jobs, history."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dam import assets, audit, collections, tags
from dam.models import User
from web.api.schemas import local_taken_at, rendition_url
from web.deps import SessionDep
from web.ui import forms, listing
from web.ui.deps import FormDep, TemplatesDep, csrf_protect, page
from web.ui.library_search import LibrarySearcher
from web.ui.redirects import see_other
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
    status: int = 200,
) -> Response:
    view = assets.asset_view(db, asset_id)
    asset = view.asset
    assert viewer.user is not None
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
        large_url=rendition_url(asset.id, "large") if "large" in renditions else None,
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


def _self_url(request: Request) -> str:
    """The page the form was posted from, with its result-set parameters."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
