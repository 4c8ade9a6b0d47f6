"""How many threads OpenCV's own pool gives one face job: the cores each worker has.

The job workers (DAM_WORKERS threads) already keep the cores busy side by side. OpenCV
runs each network layer of a face job over its own pool of one thread per core as well;
with every core taken by a worker, those threads only wait for each other, spinning
between the many small layers of MTCNN. On 2 cores with 2 workers that cost ~0.03 CPU s
per 24-megapixel photo on a quiet machine and 0.08-0.10 s under load (bench/ingest_images.py
"other threads": 78-102 ms -> 26-38 ms at load 13-20), for no gain in photos per second.
Each job's OpenCV therefore gets the cores divided by the workers (at least one: then it
runs in the worker's own thread). A single video faces job on an otherwise idle machine
gives up the second core for it (docs/models.md).
"""

from __future__ import annotations

import logging
import os

import cv2

from dam.runtime import Runtime

log = logging.getLogger(__name__)


def opencv_threads(cores: int, workers: int) -> int:
    """Threads for OpenCV's pool when `workers` job threads share `cores` cores."""
    return max(1, cores // max(1, workers))


def share_the_cores(rt: Runtime) -> None:
    """At start (job consumers): give OpenCV each worker's share of the cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = opencv_threads(cores or 1, rt.settings.workers)
    cv2.setNumThreads(threads)
    log.info(
        "face detection: %d OpenCV thread(s) per job (%d workers)", threads, rt.settings.workers
    )
