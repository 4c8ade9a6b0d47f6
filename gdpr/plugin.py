"""Wires gdpr into the core: the identity stage after ingest's faces stage, the verdict
cache following the change feed, its deadline task, commands."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dam import changes, check, jobs
from dam.models import AssetKind
from dam.runtime import Runtime
from dam.settings import Settings
from gdpr import commands, notifications, redaction, retention, verdicts
from gdpr.identity import identify_asset_faces
from gdpr.verdict_feed import VerdictStep


def register() -> None:
    jobs.register_stage("identity", identify_asset_faces)
    # gdpr meets ingest through the job pipeline: whoever runs a `faces` stage gets the
    # identity step right after it, without either package importing the other.
    jobs.add_stage_after(AssetKind.image, "faces", "identity")
    jobs.add_stage_after(AssetKind.video, "video_faces", "identity")
    # Every drain of the change feed re-judges what changed, before search indexes it.
    changes.register_step("verdicts", changes.JUDGE, lambda rt: VerdictStep(rt.settings))
    # Every minute: a consent that ends at midnight blocks its assets by 00:01.
    jobs.register_periodic("verdict_deadlines", _refresh_due)
    jobs.register_periodic("consent_notices", _notices)
    jobs.register_periodic("retention", retention.periodic)
    jobs.register_periodic("prune_redacted", redaction.prune_task)
    check.register_part("verdicts", _check)
    commands.register()


def _notices(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session:
        notifications.run_periodic(session, settings)


def _refresh_due(engine: Engine, settings: Settings) -> None:
    verdicts.refresh_due(engine, settings=settings)


def _check(rt: Runtime) -> check.PartReport:
    from gdpr.verdict_check import check_verdicts

    report = check_verdicts(rt.engine, settings=rt.settings)
    waiting = f"; {report.pending} change(s) still waiting for a drain" if report.pending else ""
    return check.PartReport(
        f"{report.checked} assets' verdicts judged afresh: {len(report.stale)} stale, "
        f"{len(report.unjudged)} not judged{waiting}.",
        report.problems,
    )
