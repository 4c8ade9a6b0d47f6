"""The library: a grid of thumbnails with sort, filters, paging and bulk actions."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from dam import bulk, collections, tags
from dam.assets import split_tags
from dam.auth import check_permission
from web.deps import BlobsDep, SessionDep, SettingsDep
from web.ui import library_search, listing
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.listing import next_page_header
from web.ui.redirects import safe_next, see_other
from web.ui.routes.download_zip import zip_choices
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Reader = Annotated[Viewer, Depends(page("assets.read"))]


def has_bulk_actions(viewer: Viewer) -> bool:
    """Whether this role can do anything with a selection (tag, collect, delete, download
    as a ZIP): roles that cannot get no check boxes and no selection bar."""
    return any(
        viewer.can(p)
        for p in ("assets.edit", "collections.edit", "assets.delete", "assets.download_rendition")
    )


@router.get("/")
def library(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    templates: TemplatesDep,
) -> Response:
    # The library is never a collection's result set (that is the collection's page).
    query = replace(listing.LibraryQuery.from_params(request.query_params), collection_id=None)
    assert viewer.user is not None
    fragment = request.query_params.get("fragment")
    view = library_search.library_view(
        db,
        query,
        searcher=library_search.LibrarySearcher(request, viewer.user),
        owner_id=viewer.user.id,
        channels=settings.channel_list,
        cards_only=fragment == "1",
    )
    if fragment == "1":
        # The infinite-scroll script asks for the next page's cards only.
        return templates.render(
            request,
            "_cards.html",
            viewer,
            headers=next_page_header(view.result, "/"),
            result=view.result,
            # The cards' check boxes belong to the bulk-action form, if there is one.
            select_form="bulk" if has_bulk_actions(viewer) else None,
        )
    values: dict[str, Any] = {
        "view": view,
        "result": view.result,
        "query": query,
        "collections": collections.list_collections(db, None)
        if viewer.can("collections.edit")
        else [],
        **zip_choices(request, viewer, db),
        "bulk": has_bulk_actions(viewer),
    }
    if fragment == "results":
        # What the instant search replaces: sidebar, count, bulk bar, grid, pager.
        return templates.render(request, "_library_results.html", viewer, **values)
    return templates.render(
        request,
        "library.html",
        viewer,
        tag_suggestions=tags.popular_tags(db, limit=30),
        **values,
    )


@router.post("/library/bulk")
def bulk_action(
    request: Request,
    db: SessionDep,
    blobs: BlobsDep,
    viewer: Reader,
    templates: TemplatesDep,
    action: Annotated[str, Form(max_length=20)],
    ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    tags_text: Annotated[str, Form(alias="tags", max_length=2000)] = "",
    collection_id: Annotated[str, Form(max_length=32)] = "",
    confirm: Annotated[str, Form(max_length=4)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    user = viewer.user
    assert user is not None
    back = safe_next(back)
    if not ids:
        flash(request, "error", viewer.gettext("Select one or more assets first."))
        return see_other(back)
    if action == "tag":
        check_permission(user, "assets.edit")
        new_tags = split_tags(tags_text)
        if not new_tags:
            flash(request, "error", viewer.gettext("Type one or more tags, separated by commas."))
            return see_other(back)
        count = bulk.add_tags(db, asset_ids=ids, tags=new_tags, actor=user)
        flash(
            request,
            "success",
            viewer.ngettext("Tags added to %(num)s asset.", "Tags added to %(num)s assets.", count),
        )
        return see_other(back)
    if action == "collect":
        check_permission(user, "collections.edit")
        if not collection_id:
            flash(request, "error", viewer.gettext("Choose a collection first."))
            return see_other(back)
        target = collections.get_collection(db, collection_id)
        count = collections.add_assets(db, collection_id=target.id, asset_ids=ids, actor=user)
        flash(
            request,
            "success",
            viewer.ngettext(
                "%(num)s asset added to %(title)s.",
                "%(num)s assets added to %(title)s.",
                count,
                title=target.title,
            ),
        )
        return see_other(back)
    if action == "delete":
        check_permission(user, "assets.delete")
        if confirm != "yes":
            return templates.render(
                request, "confirm_delete.html", viewer, ids=ids[: bulk.MAX_SELECTION], back=back
            )
        count = bulk.delete_assets(db, asset_ids=ids, actor=user, blobs=blobs)
        flash(
            request,
            "success",
            viewer.ngettext("%(num)s asset deleted.", "%(num)s assets deleted.", count),
        )
        return see_other(back)
    flash(request, "error", viewer.gettext("Unknown action."))
    return see_other(back)
