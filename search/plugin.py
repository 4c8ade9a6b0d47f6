"""Wires search into the core: the per-runtime service, its step of the change feed,
readiness and doctor checks, `dam reindex` and `dam check --search`."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.exc import SQLAlchemyError

from dam import changes, check, doctor
from dam.clock import now
from dam.runtime import Runtime
from dam.wiring import Wiring
from search import commands, dirty, providers
from search.feed import IndexStep
from search.service import SearchService, service_for
from search.sync import LEASE_TTL_S

log = logging.getLogger(__name__)

# A mark older than this means no process is writing the index.
BACKLOG_WARNING_S = 60


def register(wiring: Wiring) -> None:
    wiring.add_service("search", SearchService)
    # Every drain of the change feed marks what changed, after the verdicts were judged.
    wiring.add_change_step("search", changes.INDEX, index_step)
    providers.register(wiring)
    wiring.add_readiness_check("search", _ready)
    wiring.add_doctor_check(_doctor)
    wiring.add_check_part("search", _check)
    wiring.add_periodic("search_backlog", _warn_about_backlog)
    # A backup holds no index: `dam restore` builds it from the restored database.
    wiring.extend("restore.rebuild", "search", _rebuild)
    commands.register(wiring)


def index_step(rt: Runtime) -> IndexStep:
    return IndexStep(service_for(rt).sync)


def _ready(rt: Runtime) -> None:
    service_for(rt).backend().ping()


def _doctor(rt: Runtime) -> Iterable[doctor.Finding]:
    service = service_for(rt)
    try:
        backend = service.backend()
        backend.ping()
        detail = f"{backend.describe()}: {backend.count()} documents"
    except Exception as exc:
        yield doctor.Finding("search", "error", str(exc)[:200])
        return
    try:
        waiting = dirty.backlog(rt.engine)[0]
        if waiting:
            detail += f", {waiting} change(s) waiting to be indexed"
    except SQLAlchemyError:
        detail += " (run dam migrate to see pending changes)"
    yield doctor.Finding("search", "ok", detail)
    settings = rt.settings
    shared_database = not settings.resolved_database_url.startswith("sqlite")
    shared_queue = (settings.queue_url or "").startswith(("redis://", "rediss://"))
    if backend.name == "tantivy" and shared_database and shared_queue:
        yield doctor.Finding(
            "search topology",
            "missing",
            "several machines share this database, but the Tantivy index lives on this "
            "one: set DAM_SEARCH_URL to a Meilisearch server",
        )


def _check(rt: Runtime) -> check.PartReport:
    from search.maintenance import check_index

    report = check_index(service_for(rt))
    waiting = f"; {report.pending} change(s) still waiting for the writer" if report.pending else ""
    return check.PartReport(
        f"{report.checked} assets checked against the search index: {len(report.missing)} "
        f"missing, {len(report.stale)} stale, {len(report.orphaned)} left over{waiting}.",
        report.problems,
    )


def _rebuild(rt: Runtime) -> None:
    from search.maintenance import rebuild

    rebuild(service_for(rt))


def _warn_about_backlog(rt: Runtime) -> None:
    count, since = dirty.backlog(rt.engine)
    if (
        count
        and since is not None
        and (now() - since).total_seconds() > max(BACKLOG_WARNING_S, 2 * LEASE_TTL_S)
    ):
        log.warning(
            "%d search index change(s) wait since %s: is a process writing the index? "
            "(dam serve does; dam doctor shows the index)",
            count,
            since.isoformat(),
        )
