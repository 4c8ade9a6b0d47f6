"""Administration: importing an archive from a folder the server can read
(DAM_IMPORT_ROOTS), as a job of the queue with its progress (ingest/import_runs.py)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from dam.errors import DomainError
from dam.models import LicenceStatus
from ingest import import_runs
from web.deps import SessionDep, SettingsDep
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.forms import LICENCE_STATUS_LABELS
from web.ui.labels import N_
from web.ui.redirects import see_other
from web.ui.templating import Viewer

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])

Admin = Annotated[Viewer, Depends(page("users.manage"))]
REFUSED_SHOWN = 200
# The service's messages, for the catalogues (the page shows them translated).
MESSAGES = (
    N_("No import folders are configured (DAM_IMPORT_ROOTS)."),
    N_("Choose one of the import folders."),
    N_("That folder name is not valid."),
    N_("The folder must be inside the import folder."),
    N_("There is no such folder in the import folder."),
    N_("The folder depth is at most 10."),
)


@router.get("/import")
def import_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Admin,
    templates: TemplatesDep,
) -> Response:
    return _render(request, db, settings, viewer, templates)


def _render(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Viewer,
    templates: TemplatesDep,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return templates.render(
        request,
        "admin/import.html",
        viewer,
        status=status,
        roots=[str(p) for p in import_runs.import_roots(settings)],
        runs=import_runs.list_runs(db),
        statuses=LICENCE_STATUS_LABELS,
        error=error,
    )


@router.post("/import")
def start_import(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Admin,
    templates: TemplatesDep,
    root: Annotated[int, Form(ge=0, le=100)] = 0,
    folder: Annotated[str, Form(max_length=1000)] = "",
    licence_status: Annotated[str, Form(max_length=16)] = "",
    credit: Annotated[str, Form(max_length=500)] = "",
    collections: Annotated[bool, Form()] = False,
    folder_depth: Annotated[int, Form(ge=1, le=10)] = 1,
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    assert viewer.user is not None
    try:
        status = LicenceStatus(licence_status) if licence_status else None
        run = import_runs.start_import(
            db,
            settings=settings,
            request=import_runs.ImportRequest(
                root=root,
                folder=folder,
                licence_status=status,
                credit=credit,
                folder_depth=folder_depth if collections else 0,
                dry_run=dry_run,
            ),
            actor=viewer.user,
        )
    except ValueError:
        return _render(
            request, db, settings, viewer, templates,
            error=viewer.gettext("Choose own work, licensed or unknown."), status=422,
        )  # fmt: skip
    except DomainError as exc:
        return _render(
            request, db, settings, viewer, templates,
            error=viewer.explain(exc), status=exc.status,
        )  # fmt: skip
    return see_other(f"/admin/import/{run.id}")


@router.get("/import/{run_id}")
def import_run_page(
    run_id: str, request: Request, db: SessionDep, viewer: Admin, templates: TemplatesDep
) -> Response:
    state = import_runs.get_run(db, run_id)
    return templates.render(
        request,
        "admin/import_run.html",
        viewer,
        state=state,
        run=state.run,
        refused=_refused(state.run.report_path),
    )


def _refused(report: str | None) -> list[tuple[str, str]]:
    """The refused files and why, from the run's report (the first few hundred)."""
    if not report or not Path(report).is_file():
        return []
    with Path(report).open(encoding="utf-8", newline="") as fh:
        rows = [(r["path"], r["reason"]) for r in csv.DictReader(fh) if r["outcome"] == "refused"]
    return rows[:REFUSED_SHOWN]
