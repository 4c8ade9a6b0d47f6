"""/healthz (the process runs) and /readyz (everything it needs answers)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from dam.health import readiness
from web.deps import RuntimeDep

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    parts: dict[str, str]  # part -> "ok" or what is wrong
    failing: list[str]


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {"model": Readiness, "description": "Every part answers."},
        503: {"model": Readiness, "description": "Some parts fail (`failing` names them)."},
    },
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    parts = await run_in_threadpool(readiness, runtime)
    ok = all(value == "ok" for value in parts.values())
    return JSONResponse(
        {
            "status": "ok" if ok else "unavailable",
            "parts": parts,
            "failing": sorted(k for k, v in parts.items() if v != "ok"),
        },
        status_code=200 if ok else 503,
    )
