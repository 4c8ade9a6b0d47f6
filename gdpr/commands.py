"""`dam faces rebuild` and `dam faces cluster`."""

from __future__ import annotations

import time

import typer
from sqlmodel import col, select

from dam import biometrics, jobs
from dam.cli import console, fail, runtime
from dam.models import Asset, AssetKind, Job, JobStatus
from dam.runtime import Runtime
from dam.wiring import Wiring
from gdpr import privacy_commands
from gdpr.recognition.clusters import recluster

# The stage that finds the faces of each kind (the identity stage follows it).
DETECTION_STAGES = {AssetKind.image: "faces", AssetKind.video: "video_faces"}

faces_app = typer.Typer(help="Face detection and recognition.", no_args_is_help=True)


def register(wiring: Wiring) -> None:
    wiring.add_command_group("faces", faces_app)
    privacy_commands.register(wiring)


@faces_app.command("rebuild")
def rebuild_command(
    asset: str | None = typer.Option(None, help="Only this asset (default: every one)."),
) -> None:
    """Detect faces and recognise people again (confirmed and dismissed faces are kept)."""
    with runtime() as rt:
        with rt.unit_of_work() as session:
            query = select(Asset.id, Asset.kind).where(col(Asset.kind).in_(list(DETECTION_STAGES)))
            if asset:
                query = query.where(Asset.id == asset)
            ids = list(session.exec(query))
            if asset and not ids:
                raise fail(f"No photo or video {asset}.")
            job_ids = [
                jobs.schedule(session, asset_id=i, stage=DETECTION_STAGES[AssetKind(kind)]).id
                for i, kind in ids
            ]
        rt.queue.start_consumer(max(1, rt.settings.workers))
        _wait(rt, len(job_ids))
    console.print(f"Faces rebuilt for {len(ids)} asset(s).")


@faces_app.command("cluster")
def cluster_command() -> None:
    """Group all unknown faces again from scratch (new faces join clusters as they come)."""
    with runtime() as rt:
        if not rt.settings.face_recognition:
            raise fail("Face recognition is off (DAM_FACE_RECOGNITION=false).")
        with rt.session() as session:
            count = recluster(session, biometrics.face_key(rt.settings))
    console.print(f"{count} cluster(s) of unknown faces.")


def _wait(rt: Runtime, scheduled: int) -> None:
    # The faces jobs schedule their identity jobs when done: wait until neither is left.
    while scheduled:
        with rt.session() as session:
            busy = session.exec(
                select(Job.id).where(
                    col(Job.status).in_([JobStatus.queued, JobStatus.running]),
                    col(Job.stage).in_([*DETECTION_STAGES.values(), "identity"]),
                )
            ).first()
        if busy is None:
            return
        time.sleep(0.3)
