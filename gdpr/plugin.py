"""Wires gdpr into the core: the identity stage after ingest's faces stage, commands."""

from __future__ import annotations

from dam import jobs
from dam.models import AssetKind
from gdpr import commands
from gdpr.identity import identify_asset_faces


def register() -> None:
    jobs.register_stage("identity", identify_asset_faces)
    # gdpr meets ingest through the job pipeline: whoever runs a `faces` stage gets the
    # identity step right after it, without either package importing the other.
    jobs.add_stage_after(AssetKind.image, "faces", "identity")
    jobs.add_stage_after(AssetKind.video, "video_faces", "identity")
    commands.register()
