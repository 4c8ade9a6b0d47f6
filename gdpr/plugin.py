"""Wires gdpr into the core: the identity stage after ingest's faces stage, the verdict
cache following the change feed, its deadline task, commands."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from dam import changes, check
from dam.models import AssetKind
from dam.runtime import Runtime
from dam.wiring import Wiring
from gdpr import commands
from gdpr.consent import creative_notices, notifications
from gdpr.judgement import verdicts
from gdpr.judgement.verdict_feed import VerdictStep
from gdpr.publishing import download_batches, download_packing, redaction
from gdpr.recognition import person_suggestions
from gdpr.recognition.identity import identify_asset_faces
from gdpr.requests import person_requests, retention
from gdpr.requests.erasure_replay import replay_erasures


def register(wiring: Wiring) -> None:
    wiring.add_stage("identity", identify_asset_faces)
    # gdpr meets ingest through the job pipeline: whoever runs a `faces` stage gets the
    # identity step right after it, without either package importing the other.
    wiring.add_stage_after(AssetKind.image, "faces", "identity")
    wiring.add_stage_after(AssetKind.video, "video_faces", "identity")
    wiring.add_task(
        redaction.VIDEO_TASK, redaction.make_redacted_video, memory=redaction.video_need
    )
    wiring.add_task(person_suggestions.TASK, person_suggestions.suggest_person_everywhere)
    wiring.add_service(person_suggestions.SERVICE, person_suggestions.make_cache)
    wiring.add_task(download_batches.ZIP_TASK, download_packing.pack_download)
    # Data-subject requests started from the UI run as jobs about the person.
    wiring.add_task(person_requests.EXPORT_TASK, person_requests.run_export)
    wiring.add_task(
        person_requests.ERASURE_TASK,
        person_requests.run_erasure,
        memory=person_requests.erasure_need,
    )
    # Every drain of the change feed re-judges what changed, before search indexes it.
    wiring.add_change_step("verdicts", changes.JUDGE, verdict_step)
    # Every minute: a consent that ends at midnight blocks its assets by 00:01.
    wiring.add_periodic("verdict_deadlines", _refresh_due)
    wiring.add_periodic("consent_notices", _notices)
    wiring.add_periodic("retention", retention.run, every=retention.RUN_EVERY)
    wiring.add_periodic("prune_redacted", redaction.prune_task)
    wiring.add_periodic("prune_downloads", download_batches.prune)
    wiring.add_periodic("purge_exports", person_requests.purge_exports)
    wiring.add_check_part("verdicts", _check)
    # `dam restore` erases again whoever the erasure ledger names, before anything serves.
    wiring.extend("restore.erasures", "gdpr", replay_erasures)
    commands.register(wiring)


def verdict_step(rt: Runtime) -> VerdictStep:
    return VerdictStep(rt.settings)


def _notices(rt: Runtime) -> None:
    with rt.unit_of_work() as session:
        notifications.run_periodic(session, rt.settings)
    try:
        with rt.unit_of_work() as session:
            creative_notices.notice_expired(session, rt.settings)
    except IntegrityError:  # another process added the same notice meanwhile
        pass


def _refresh_due(rt: Runtime) -> None:
    verdicts.refresh_due(rt)


def _check(rt: Runtime) -> check.PartReport:
    from gdpr.judgement.verdict_check import check_verdicts

    report = check_verdicts(rt)
    waiting = f"; {report.pending} change(s) still waiting for a drain" if report.pending else ""
    return check.PartReport(
        f"{report.checked} assets' verdicts judged afresh: {len(report.stale)} stale, "
        f"{len(report.unjudged)} not judged{waiting}.",
        report.problems,
    )
