"""Wires gdpr into the core: the identity stage after ingest's faces stage, the verdict
cache following every change that can alter a verdict, its deadline task, commands."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dam import clock, events, jobs
from dam.models import Asset, AssetKind
from dam.runtime import register_service
from dam.settings import Settings
from gdpr import commands, notifications, redaction, retention, verdicts
from gdpr.identity import identify_asset_faces


def register() -> None:
    jobs.register_stage("identity", identify_asset_faces)
    # gdpr meets ingest through the job pipeline: whoever runs a `faces` stage gets the
    # identity step right after it, without either package importing the other.
    jobs.add_stage_after(AssetKind.image, "faces", "identity")
    jobs.add_stage_after(AssetKind.video, "video_faces", "identity")
    register_service("verdicts", lambda rt: verdicts.VerdictService(rt.settings, rt.engine))
    events.subscribe(events.AssetStored, _on_asset)
    events.subscribe(events.AssetChanged, _on_asset)
    events.subscribe(events.FacesDetected, _on_faces_detected)
    # Every minute: a consent that ends at midnight blocks its assets by 00:01.
    jobs.register_periodic("verdict_deadlines", _refresh_due)
    jobs.register_periodic("consent_notices", _notices)
    jobs.register_periodic("retention", retention.periodic)
    jobs.register_periodic("prune_redacted", redaction.prune_task)
    commands.register()


def _on_asset(event: events.AssetStored | events.AssetChanged) -> None:
    # A finished pipeline publishes AssetChanged after AssetProcessed: that one suffices.
    for service in verdicts.live_services():
        service.refresh([event.asset_id])


def _on_faces_detected(event: events.FacesDetected) -> None:
    for service in verdicts.live_services():
        with Session(service.engine) as session:
            session.exec(
                update(Asset).where(Asset.id == event.asset_id).values(faces_checked_at=clock.now())  # type: ignore[arg-type]
            )
            verdicts.refresh(session, [event.asset_id], settings=service.settings)
            session.commit()


def _notices(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session:
        notifications.run_periodic(session, settings)


def _refresh_due(engine: Engine, settings: Settings) -> None:
    verdicts.refresh_due(engine, settings=settings)
