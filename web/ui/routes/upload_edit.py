"""After an upload batch: "Edit these uploads" opens the new assets in one form (title,
alt text, tags per asset; one save)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from dam import assets
from dam.assets import AssetUpdate, split_tags
from dam.errors import NotFound
from dam.models import Asset
from web.deps import SessionDep
from web.ui.deps import FormDep, TemplatesDep, csrf_protect, page
from web.ui.forms import ALT_MAX, TITLE_MAX
from web.ui.redirects import see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
MAX_ASSETS = 100


def _assets(db: SessionDep, viewer: Viewer, ids: list[str]) -> list[Asset]:
    assert viewer.user is not None
    found = []
    for asset_id in list(dict.fromkeys(ids))[:MAX_ASSETS]:
        try:
            found.append(assets.get_library_asset(db, asset_id, viewer.user))
        except NotFound:
            continue  # deleted meanwhile, or not for this role: left out, as elsewhere
    return found


@router.get("/uploads/edit")
def edit_uploads(
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    viewer: Viewer = Depends(page("assets.edit")),
    id: list[str] = Query(default=[], max_length=MAX_ASSETS),
) -> Response:
    rows = [
        (a, a.title, a.alt_text, ", ".join(assets.tags_of(db, a.id)))
        for a in _assets(db, viewer, id)
    ]
    return templates.render(request, "upload_edit.html", viewer, rows=rows, errors={})


@router.post("/uploads/edit")
def save_uploads(
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    form: FormDep,
    viewer: Viewer = Depends(page("assets.edit")),
) -> Response:
    assert viewer.user is not None
    ids = [str(v) for v in form.getlist("id")]
    found = _assets(db, viewer, ids)
    errors: dict[str, str] = {}
    updates = []
    for asset in found:
        title = str(form.get(f"title-{asset.id}") or "").strip()
        alt = str(form.get(f"alt_text-{asset.id}") or "").strip()
        if len(title) > TITLE_MAX:
            errors[asset.id] = viewer.gettext("The title can be at most 500 characters long.")
        elif len(alt) > ALT_MAX:
            errors[asset.id] = viewer.gettext("Alt text can be at most 1,000 characters long.")
        tags = split_tags(str(form.get(f"tags-{asset.id}") or ""))
        data = {"title": title, "alt_text": alt, "tags": tags}
        updates.append((asset.id, AssetUpdate.model_validate(data)))
    if errors:
        rows = [
            (a, *(str(form.get(f"{name}-{a.id}") or "") for name in ("title", "alt_text", "tags")))
            for a in found
        ]
        return templates.render(
            request, "upload_edit.html", viewer, rows=rows, errors=errors, status=422
        )
    for asset_id, update in updates:
        assets.update_asset(db, asset_id=asset_id, data=update, actor=viewer.user)
    flash(
        request,
        "success",
        viewer.ngettext("%(num)s asset saved.", "%(num)s assets saved.", len(updates)),
    )
    return see_other("/?mine=1")
