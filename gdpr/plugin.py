"""Wires gdpr into the core: the identity stage after ingest's faces stage, the verdict
cache following every change that can alter a verdict, its deadline task, commands."""

from __future__ import annotations

from sqlalchemy import update

from dam import clock, events
from dam.models import Asset, AssetKind
from dam.runtime import Runtime
from dam.wiring import Wiring
from gdpr import commands, notifications, redaction, retention, verdicts
from gdpr.identity import identify_asset_faces


def register(wiring: Wiring) -> None:
    wiring.add_stage("identity", identify_asset_faces)
    # gdpr meets ingest through the job pipeline: whoever runs a `faces` stage gets the
    # identity step right after it, without either package importing the other.
    wiring.add_stage_after(AssetKind.image, "faces", "identity")
    wiring.add_stage_after(AssetKind.video, "video_faces", "identity")
    wiring.add_task(redaction.VIDEO_TASK, redaction.make_redacted_video)
    wiring.add_service("verdicts", verdicts.VerdictService)
    wiring.subscribe(events.AssetStored, _on_asset)
    wiring.subscribe(events.AssetChanged, _on_asset)
    wiring.subscribe(events.FacesDetected, _on_faces_detected)
    # Every minute: a consent that ends at midnight blocks its assets by 00:01.
    wiring.add_periodic("verdict_deadlines", _refresh_due)
    wiring.add_periodic("consent_notices", _notices)
    wiring.add_periodic("retention", retention.periodic)
    wiring.add_periodic("prune_redacted", redaction.prune_task)
    commands.register(wiring)


def _on_asset(rt: Runtime, event: events.AssetStored | events.AssetChanged) -> None:
    # A finished pipeline publishes AssetChanged after AssetProcessed: that one suffices.
    verdicts.service_for(rt).refresh([event.asset_id])


def _on_faces_detected(rt: Runtime, event: events.FacesDetected) -> None:
    with rt.unit_of_work() as session:
        session.exec(
            update(Asset).where(Asset.id == event.asset_id).values(faces_checked_at=clock.now())  # type: ignore[arg-type]
        )
        verdicts.refresh(session, [event.asset_id], settings=rt.settings)


def _notices(rt: Runtime) -> None:
    with rt.unit_of_work() as session:
        notifications.run_periodic(session, rt.settings)


def _refresh_due(rt: Runtime) -> None:
    verdicts.refresh_due(rt)
