"""Wires ingest into the core: pipeline stages, periodic tasks, doctor checks, commands."""

from __future__ import annotations

from dam import doctor, jobs
from dam.models import AssetKind
from ingest import capabilities, commands, tus
from ingest.faces.capabilities import check_face_models
from ingest.faces.stage import detect_asset_faces
from ingest.image import budget
from ingest.image.stages import probe_image, render_image
from ingest.video import plugin as video


def register() -> None:
    jobs.register_stage("probe", probe_image)
    jobs.register_stage("renditions", render_image, memory=budget.renditions_need)
    jobs.register_stage("faces", detect_asset_faces, memory=budget.faces_need)
    jobs.register_pipeline(AssetKind.image, ["probe", "renditions", "faces"])
    jobs.register_periodic("expire_uploads", tus.expire_uploads)
    doctor.register(capabilities.check_image_codecs)
    doctor.register(capabilities.check_ffmpeg)
    doctor.register(check_face_models)
    video.register()
    commands.register()
