"""/api/v1/clusters: unknown faces grouped, and naming a whole group at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from dam.models import User
from gdpr.recognition import clusters
from web.api.face_schemas import ClusterAssigned, ClusterPublic, cluster_public
from web.deps import SessionDep, require

router = APIRouter(prefix="/clusters", tags=["faces"])


class AssignRequest(BaseModel):
    model_config = {"extra": "forbid"}

    person_id: str


@router.get("", response_model=list[ClusterPublic])
def list_clusters(
    session: SessionDep,
    user: User = Depends(require("people.read")),
    min_size: Annotated[int, Query(ge=1, le=100_000)] = 1,
    sample: Annotated[int, Query(ge=1, le=500)] = 12,
) -> list[ClusterPublic]:
    found = clusters.list_clusters(session, min_size=min_size, viewer=user)
    return [cluster_public(c, sample=sample) for c in found]


@router.post("/{cluster_id}/assign", response_model=ClusterAssigned)
def assign_cluster(
    cluster_id: str,
    data: AssignRequest,
    session: SessionDep,
    user: User = Depends(require("faces.identify")),
) -> ClusterAssigned:
    count = clusters.assign_cluster(
        session, cluster_id=cluster_id, person_id=data.person_id, actor=user
    )
    return ClusterAssigned(cluster_id=cluster_id, person_id=data.person_id, confirmed=count)
