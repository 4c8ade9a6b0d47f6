"""Collections: the list, one collection as a grid, creating and editing them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from dam import collections
from web.deps import SessionDep
from web.ui import listing
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.redirects import see_other
from web.ui.routes.download_zip import zip_choices
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Reader = Annotated[Viewer, Depends(page("collections.read"))]
Editor = Annotated[Viewer, Depends(page("collections.edit"))]
Title = Annotated[str, Form(max_length=1000)]
Description = Annotated[str, Form(max_length=10_000)]


def _title_error(exc: ValidationError) -> str:
    fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    if "title" in fields:
        return "title"
    return "description"


@router.get("/collections")
def collection_list(
    request: Request, db: SessionDep, viewer: Reader, templates: TemplatesDep
) -> Response:
    return templates.render(
        request,
        "collections.html",
        viewer,
        summaries=collections.list_collections(db, None),
        values={"title": "", "description": ""},
        errors={},
    )


@router.post("/collections")
def create_collection(
    request: Request,
    db: SessionDep,
    viewer: Editor,
    templates: TemplatesDep,
    title: Title = "",
    description: Description = "",
) -> Response:
    assert viewer.user is not None
    try:
        data = collections.CollectionCreate(title=title, description=description)
    except ValidationError as exc:
        field = _title_error(exc)
        return templates.render(
            request,
            "collections.html",
            viewer,
            status=422,
            summaries=collections.list_collections(db, None),
            values={"title": title, "description": description},
            errors={field: _message(viewer, field)},
        )
    created = collections.create_collection(db, data=data, owner=viewer.user)
    flash(request, "success", viewer.gettext("Collection %(title)s created.", title=created.title))
    return see_other(f"/collections/{created.id}")


def _message(viewer: Viewer, field: str) -> str:
    if field == "title":
        return viewer.gettext("Give the collection a title of at most 200 characters.")
    return viewer.gettext("The description can be at most 5,000 characters long.")


def _render_collection(
    request: Request,
    db: SessionDep,
    viewer: Viewer,
    templates: TemplatesDep,
    collection_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    collection = collections.get_collection(db, collection_id)
    query = listing.LibraryQuery.from_params({**request.query_params, "in": collection.id})
    result = listing.fetch(db, query, owner_id=None)
    if request.query_params.get("fragment") == "1":
        headers = listing.next_page_header(result, f"/collections/{collection.id}")
        return templates.render(
            request,
            "_cards.html",
            viewer,
            headers=headers,
            result=result,
            select_form="remove" if viewer.can("collections.edit") else None,
        )
    return templates.render(
        request,
        "collection.html",
        viewer,
        status=status,
        collection=collection,
        result=result,
        query=query,
        values=values or {"title": collection.title, "description": collection.description},
        **zip_choices(request, viewer, db),
        errors=errors or {},
    )


@router.get("/collections/{collection_id}")
def collection_page(
    collection_id: str, request: Request, db: SessionDep, viewer: Reader, templates: TemplatesDep
) -> Response:
    return _render_collection(request, db, viewer, templates, collection_id)


@router.post("/collections/{collection_id}")
def edit_collection(
    collection_id: str,
    request: Request,
    db: SessionDep,
    viewer: Editor,
    templates: TemplatesDep,
    title: Title = "",
    description: Description = "",
) -> Response:
    assert viewer.user is not None
    try:
        data = collections.CollectionUpdate(title=title, description=description)
    except ValidationError as exc:
        field = _title_error(exc)
        return _render_collection(
            request,
            db,
            viewer,
            templates,
            collection_id,
            values={"title": title, "description": description},
            errors={field: _message(viewer, field)},
            status=422,
        )
    collections.update_collection(db, collection_id=collection_id, data=data, actor=viewer.user)
    flash(request, "success", viewer.gettext("The changes are saved."))
    return see_other(f"/collections/{collection_id}")


@router.post("/collections/{collection_id}/remove")
def remove_from_collection(
    collection_id: str,
    request: Request,
    db: SessionDep,
    viewer: Editor,
    ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
) -> Response:
    assert viewer.user is not None
    if not ids:
        flash(request, "error", viewer.gettext("Select one or more assets first."))
    else:
        count = collections.remove_assets(
            db, collection_id=collection_id, asset_ids=ids, actor=viewer.user
        )
        flash(
            request,
            "success",
            viewer.ngettext(
                "%(num)s asset removed from the collection.",
                "%(num)s assets removed from the collection.",
                count,
            ),
        )
    return see_other(f"/collections/{collection_id}")
