"""Who is this face, without scripts: the asset page's people picker finds people as you
type (web/static/js/person-picker.js); without scripts its "Search people by name" button
comes here, to a page of matches for the name typed, each with a button that confirms
the face as that person (the asset page's confirm route, then back to the face).

The asset's result set (library search, position) travels along in the query, as on the
asset page, so that the way back keeps previous/next.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from dam import assets
from dam.models import Face
from gdpr.recognition import face_decisions, people_search
from web.api.face_schemas import crop_url
from web.deps import SessionDep
from web.ui.deps import PageAsset, TemplatesDep, csrf_protect, page
from web.ui.face_marks import face_marks
from web.ui.templating import Viewer

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

SHOWN = 20


def face_people_url(request: Request, face: Face, name: str) -> str:
    """This page for `face` and the name typed, keeping the asset page's result set."""
    params = [("name", " ".join(name.split())[:200]), *_result_set(request)]
    return f"/assets/{face.asset_id}/faces/{face.id}/people?{urlencode(params)}"


def _result_set(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items() if k != "name"]


@router.get("/assets/{asset_id}/faces/{face_id}/people")
def face_people(
    face_id: str,
    request: Request,
    db: SessionDep,
    templates: TemplatesDep,
    viewer: Viewer = Depends(page("faces.identify")),
    *,
    asset: PageAsset,
    name: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    assert viewer.user is not None
    face = face_decisions.face_on(db, asset.id, face_id)
    found = people_search.find_people(db, text=name, viewer=viewer.user, limit=SHOWN)
    marks = face_marks(assets.faces_of(db, asset.id), names={}, video=asset.kind == "video")
    number = next((m.number for m in marks if m.id == face.id), 1)
    result_set = _result_set(request)
    return templates.render(
        request,
        "face_people.html",
        viewer,
        asset=asset,
        face=face,
        number=number,
        crop_url=crop_url(face),
        typed_name=" ".join(name.split()),
        found=found,
        # An officer may add the name typed as a new person, unless someone has it already.
        may_add=viewer.can("people.manage") and found.new_name(name),
        result_set=result_set,
        back_query=f"?{urlencode(result_set)}" if result_set else "",
    )
