"""/api/v1/jobs: pipeline progress per asset."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from dam.assets import jobs_of
from dam.models import User
from web.api.schemas import JobPublic, job_public
from web.deps import SessionDep, VisibleAsset, require
from web.openapi import errors

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=list[JobPublic], responses=errors(404))
def list_jobs(
    session: SessionDep, user: User = Depends(require("jobs.read")), *, asset: VisibleAsset
) -> list[JobPublic]:
    """The pipeline jobs of the asset named by the `asset_id` query parameter."""
    return [job_public(job) for job in jobs_of(session, asset.id)]
