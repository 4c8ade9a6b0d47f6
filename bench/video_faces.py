"""The video faces stage on a 60 s 720p clip, before and after issue 16.

    .venv/bin/python bench/video_faces.py [--seconds 60]

Makes (once, cached under .cache/bench-video/) a 1280 x 720 H.264 clip: a 6000 x 4000
camera frame with 16 real annotated faces (tests/faces_corpus.py camera_frames), scaled to
1920 px and panned slowly, so that faces of 6-50 px move through the frame. Stores it in a
fresh data dir with face detection off (so the pipeline's other stages run), then calls the
`video_faces` stage directly, the way it was (every frame searched whole from
DAM_FACE_MIN_SIZE_PX) and as it is (the whole frame from DAM_FACE_WHOLE_FRAME_PX, smaller
faces where skin colours are), alternating, twice each. Prints wall and CPU seconds
(this process and its ffmpeg children), tracks found and the load average.
Target: at most half the clip's duration.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from dam import migrate  # noqa: E402
from dam.jobs import StageContext  # noqa: E402
from dam.models import Face, Job, JobStatus  # noqa: E402
from dam.runtime import build_runtime  # noqa: E402
from dam.settings import load_settings  # noqa: E402
from ingest.video.faces import detect_video_faces  # noqa: E402
from tests import faces_corpus  # noqa: E402
from tests import video_clips as clips  # noqa: E402

CACHE = ROOT / ".cache" / "bench-video"
BEFORE = {"face_whole_frame_px": 20}


def clip(seconds: int) -> Path:
    target = CACHE / f"camera-pan-{seconds}s-720p.mp4"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    frame, _truth = faces_corpus.camera_frames(1)[0]
    still = CACHE / "camera-frame.png"
    frame.resize((1920, 1280)).save(still)
    pan = f"crop=1280:720:x='320+300*sin(2*PI*t/{seconds})':y='280+200*cos(2*PI*t/{seconds})'"
    command = [clips.ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-loop", "1",
               "-framerate", "25", "-t", str(seconds), "-i", str(still), "-vf", pan,
               *clips.H264, str(target)]  # fmt: skip
    subprocess.run(command, check=True)
    return target


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    path = clip(args.seconds)
    print(f"load average {os.getloadavg()[0]:.2f} at start ({os.cpu_count()} cores); {path}")
    with tempfile.TemporaryDirectory(prefix="bench-video-faces-") as temp:
        settings = load_settings(
            data_dir=Path(temp) / "data",
            database_url=None,
            queue_url=None,
            face_detection=False,
            face_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        )
        rt = build_runtime(settings)
        try:
            migrate.upgrade(rt.engine)
            rt.queue.start_consumer(1)
            asset_id = clips.store(rt, path)
            while clips.asset(rt, asset_id).status == "processing":
                time.sleep(0.2)
            rt.queue.stop_consumer()
            variants = {
                "before (whole frame from 20 px)": settings.model_copy(
                    update={"face_detection": True, **BEFORE}
                ),
                "now": settings.model_copy(update={"face_detection": True}),
            }
            # The stage checks its job row (a deleted asset cancels it): one that never runs.
            with rt.session() as session:
                job = Job(asset_id=asset_id, stage="video_faces", status=JobStatus.running)
                session.add(job)
                session.commit()
                job_id = job.id
            for _round in range(2):
                for label, chosen in variants.items():
                    ctx = StageContext(
                        job_id=job_id,
                        asset_id=asset_id,
                        runtime=rt,
                        report_progress=lambda fraction: None,
                        settings=chosen,
                    )
                    wall, spent = time.perf_counter(), cpu()
                    detect_video_faces(ctx)
                    seconds = time.perf_counter() - wall
                    with rt.session() as session:
                        found = len(
                            session.exec(select(Face).where(Face.asset_id == asset_id)).all()
                        )
                    print(
                        f"  {label:32s} {seconds:6.1f} s wall ({seconds / args.seconds:.2f}x the "
                        f"clip), {cpu() - spent:6.1f} CPU s; {found} tracks; load "
                        f"{os.getloadavg()[0]:.1f} [target <= 0.5x: "
                        f"{'meets' if seconds <= args.seconds / 2 else 'MISSES'} target]"
                    )
        finally:
            rt.close()


if __name__ == "__main__":
    main()
