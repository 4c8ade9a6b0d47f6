"""Wires the video pipeline into the core: its stages and pipeline, the scratch sweeper,
its doctor check. The last stage finds the people in it (face tracks)."""

from __future__ import annotations

from dam import media
from dam.models import AssetKind
from dam.wiring import Wiring
from ingest.video import budget
from ingest.video.blur import blur_original, blur_video
from ingest.video.faces import detect_video_faces
from ingest.video.scratch import sweep_task
from ingest.video.stages import probe_video, render_video, storyboard_video
from ingest.video.toolbox import announce_ffmpeg, check_video

VIDEO_PIPELINE = ["video_probe", "video_renditions", "video_storyboard", "video_faces"]


def register(wiring: Wiring) -> None:
    # Each declares its memory need: the runner keeps jobs within DAM_JOB_MEMORY_MB.
    wiring.add_stage("video_probe", probe_video, memory=budget.probe_need)
    wiring.add_stage("video_renditions", render_video, memory=budget.transcode_need)
    wiring.add_stage("video_storyboard", storyboard_video, memory=budget.transcode_need)
    wiring.add_stage("video_faces", detect_video_faces, memory=budget.transcode_need)
    wiring.add_pipeline(AssetKind.video, VIDEO_PIPELINE)
    wiring.add_periodic("sweep_video_scratch", sweep_task)
    wiring.add_doctor_check(check_video)
    wiring.add_startup("ffmpeg", announce_ffmpeg)
    wiring.extend(media.VIDEO_BLURRER, "ffmpeg", blur_video)
    wiring.extend(media.ORIGINAL_BLURRER, "ffmpeg", blur_original)
    wiring.extend(media.ORIGINAL_BLUR_MEMORY, "ffmpeg", budget.blur_need)
