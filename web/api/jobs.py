"""/api/v1/jobs: pipeline progress per asset."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from dam.assets import get_job, jobs_of
from dam.models import User
from web.api.schemas import JobPublic, job_public
from web.deps import SessionDep, VisibleAsset, require
from web.errors import api_locale
from web.openapi import errors

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=list[JobPublic], responses=errors(404))
def list_jobs(
    request: Request,
    session: SessionDep,
    user: User = Depends(require("jobs.read")),
    *,
    asset: VisibleAsset,
) -> list[JobPublic]:
    """The pipeline jobs of the asset named by the `asset_id` query parameter."""
    locale = api_locale(request)
    return [job_public(job, locale=locale) for job in jobs_of(session, asset.id)]


@router.get("/{job_id}", response_model=JobPublic, responses=errors(404))
def read_job(
    job_id: str,
    request: Request,
    session: SessionDep,
    user: User = Depends(require("jobs.read")),
) -> JobPublic:
    """One job's status and progress (a redacted video's download points here)."""
    return job_public(get_job(session, job_id, user), locale=api_locale(request))
