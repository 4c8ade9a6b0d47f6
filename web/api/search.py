"""/api/v1/search: words, filters, facets, sort and pages over the asset library."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel

from dam.models import User
from search.query import MAX_PER_PAGE, Filters, Sort
from search.service import SearchParams, search_assets, service_for
from web.api.schemas import rendition_url
from web.deps import RuntimeDep, require


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The serving process writes the index (while it holds the writer lease), so marks
    # made by workers elsewhere reach the index even when nothing happens here.
    service_for(app.state.runtime).sync.start()
    yield


router = APIRouter(prefix="/search", tags=["search"], lifespan=lifespan)


class SearchHitPublic(BaseModel):
    id: str
    kind: str
    title: str
    thumbnail_url: str
    highlights: dict[str, str]


class SearchResponse(BaseModel):
    total: int
    page: int
    per_page: int
    hits: list[SearchHitPublic]
    facets: dict[str, dict[str, int]]


Many = Annotated[list[str], Query()]


@router.get("", response_model=SearchResponse)
def search(
    runtime: RuntimeDep,
    user: User = Depends(require("assets.read")),
    q: Annotated[str, Query(max_length=500)] = "",
    kind: Many = [],  # noqa: B006 - FastAPI copies query-list defaults
    tag: Many = [],  # noqa: B006
    person: Many = [],  # noqa: B006
    year: Annotated[list[int], Query()] = [],  # noqa: B006
    cleared_for: Many = [],  # noqa: B006
    collection: Many = [],  # noqa: B006
    licence: Many = [],  # noqa: B006
    orientation: Many = [],  # noqa: B006
    sort: Sort | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
) -> SearchResponse:
    """Repeat a filter to narrow further (tag=gent&tag=zomer); kind, year, licence and
    orientation values are alternatives. Without q the newest uploads come first."""
    filters = Filters(
        kinds=tuple(kind),
        years=tuple(year),
        tags=tuple(t.strip().lower() for t in tag),
        people=tuple(person),
        collections=tuple(collection),
        cleared_for=tuple(cleared_for),
        licences=tuple(licence),
        orientations=tuple(orientation),
    )
    params = SearchParams(q=q, filters=filters, sort=sort, page=page, per_page=per_page)
    result = search_assets(service_for(runtime), user=user, params=params)
    return SearchResponse(
        total=result.total,
        page=page,
        per_page=per_page,
        hits=[
            SearchHitPublic(
                id=hit.id,
                kind=hit.kind,
                title=hit.title,
                thumbnail_url=rendition_url(hit.id, "thumb"),
                highlights=hit.highlights,
            )
            for hit in result.hits
        ],
        facets=result.facets,
    )
