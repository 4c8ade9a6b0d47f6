"""The fast review flow of the privacy dashboard: one asset at a time with its faces; each
undecided face confirmed as the suggested person, as a person picked or typed, or
dismissed; then on to the next asset.

Plain forms that redirect to what is next (the same asset while it has undecided faces,
then the next one in the queue); privacy-review.js adds one-key shortcuts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from dam.assets import get_library_asset
from dam.errors import DomainError
from dam.models import AssetKind
from gdpr import dashboard
from gdpr.recognition import face_decisions, face_review
from web.api.schemas import rendition_url
from web.deps import SessionDep
from web.ui import face_forms
from web.ui.deps import PageAsset, TemplatesDep, csrf_protect, page
from web.ui.face_marks import face_marks
from web.ui.labels import N_
from web.ui.redirects import see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Officer = Annotated[Viewer, Depends(page("consents.manage"))]
Short = Annotated[str, Form(max_length=400)]

ERRORS = face_forms.PROBLEMS | {
    "not_found": N_("This was changed or removed meanwhile. Look at the page again."),
}


@router.get("/privacy/review")
def review_page(
    request: Request, db: SessionDep, viewer: Officer, templates: TemplatesDep
) -> Response:
    wanted = request.query_params.get("asset", "")[:32]
    if wanted:
        assert viewer.user is not None
        get_library_asset(db, wanted, viewer.user)  # evidence is no library asset: 404
    asset_id = wanted or dashboard.next_for_review(db)
    if asset_id is None:
        return templates.render(request, "privacy/review.html", viewer, item=None, total=0)
    item = face_review.review_item(db, asset_id)
    video = item.asset.kind == AssetKind.video
    following = dashboard.next_for_review(db, after=asset_id)
    return templates.render(
        request,
        "privacy/review.html",
        viewer,
        item=item,
        total=dashboard.review_count(db),
        faces=face_marks(item.faces, names=item.names, video=video),
        undecided={f.id for f in item.undecided},
        picture_url=rendition_url(item.asset.id, "preview")
        if not video and "preview" in item.renditions
        else None,
        poster_url=rendition_url(item.asset.id, "poster")
        if video and "poster" in item.renditions
        else None,
        next_id=following if following != asset_id else None,
        dismiss_labels=face_forms.DISMISS_LABELS,
    )


@router.post("/privacy/review/{asset_id}/faces/{face_id}/confirm")
def confirm(
    asset_id: str,
    face_id: str,
    request: Request,
    db: SessionDep,
    viewer: Officer,
    asset: PageAsset,  # 404 unless the viewer may see it
    person_id: Annotated[str, Form(max_length=64)] = "",
    name: Short = "",
    number: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The suggested person (`person_id`), or a person picked or typed by `name`."""
    assert viewer.user is not None
    try:
        face = face_decisions.face_on(db, asset_id, face_id)
        who = face_decisions.confirm(
            db,
            face_id=face.id,
            person_id=person_id,
            name=name,
            actor=viewer.user,
            may_create=viewer.can("people.manage"),
        ).name
    except DomainError as exc:
        return _failed(request, viewer, exc, asset_id, face_id)
    message = viewer.gettext("Face %(n)s is confirmed as %(name)s.", n=_n(number), name=who)
    flash(request, "success", message)
    return _onwards(db, asset_id)


@router.post("/privacy/review/{asset_id}/faces/{face_id}/dismiss")
def dismiss(
    asset_id: str,
    face_id: str,
    request: Request,
    db: SessionDep,
    viewer: Officer,
    asset: PageAsset,  # 404 unless the viewer may see it
    reason: Annotated[str, Form(max_length=100)] = "",
    number: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    assert viewer.user is not None
    try:
        face = face_decisions.face_on(db, asset_id, face_id)
        face_decisions.dismiss(db, face_id=face.id, reason=reason, actor=viewer.user)
    except DomainError as exc:
        return _failed(request, viewer, exc, asset_id, face_id)
    flash(request, "success", viewer.gettext("Face %(n)s is dismissed.", n=_n(number)))
    return _onwards(db, asset_id)


def _n(number: str) -> str:
    """The face's number on the page (the form sends it back), for the message."""
    return number if number.isdigit() else "?"


def _failed(
    request: Request, viewer: Viewer, exc: DomainError, asset_id: str, face_id: str
) -> Response:
    message = ERRORS.get(exc.code)
    flash(request, "error", viewer.gettext(message) if message else viewer.explain(exc))
    return see_other(f"/privacy/review?asset={asset_id}#face-{face_id}")


def _onwards(db: SessionDep, asset_id: str) -> Response:
    """The same asset while it has undecided faces, else the next one (or the end)."""
    item = face_review.review_item(db, asset_id)
    if item.undecided:
        return see_other(f"/privacy/review?asset={asset_id}#face-{item.undecided[0].id}")
    following = dashboard.next_for_review(db, after=asset_id)
    if following is None:
        return see_other("/privacy/review")
    return see_other(f"/privacy/review?asset={following}")
