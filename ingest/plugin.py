"""Wires ingest into the core: pipeline stages, the web import's job, periodic tasks, doctor
checks, commands."""

from __future__ import annotations

from dam.models import AssetKind
from dam.wiring import Wiring
from ingest import capabilities, commands, import_runs, tus
from ingest.faces import threads
from ingest.faces.capabilities import check_face_models
from ingest.faces.stage import detect_asset_faces
from ingest.image import budget
from ingest.image.stages import probe_image, render_image
from ingest.video import plugin as video


def register(wiring: Wiring) -> None:
    wiring.add_stage("probe", probe_image)
    # Right after the probe, in its worker: one trip through the queue and one change-feed
    # drain less per photo (docs/models.md, session 9).
    wiring.add_stage("renditions", render_image, memory=budget.renditions_need, same_worker=True)
    wiring.add_stage("faces", detect_asset_faces, memory=budget.faces_need, same_worker=True)
    wiring.add_pipeline(AssetKind.image, ["probe", "renditions", "faces"])
    wiring.add_task(import_runs.IMPORT_TASK, import_runs.import_folder)
    wiring.add_periodic("expire_uploads", tus.expire_uploads)
    wiring.add_doctor_check(capabilities.check_image_codecs)
    wiring.add_doctor_check(capabilities.check_ffmpeg)
    wiring.add_doctor_check(check_face_models)
    wiring.add_startup("opencv_threads", threads.share_the_cores)
    video.register(wiring)
    commands.register(wiring)
