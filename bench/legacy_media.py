"""What camera RAW and legacy video cost: prints wall and CPU seconds (children included,
so ffmpeg and the LibRaw child count) and the load average, so figures taken on a busy
machine can be judged.

    .venv/bin/python bench/legacy_media.py [--debian /usr/bin/ffmpeg]

RAW: a 12-megapixel DNG (tests/raw_samples.py) with and without a full-size preview,
through the same open/decode the photo pipeline runs. Video: each legacy sample of
tests/test_video_legacy.py converted to its web versions, with the bundled ffmpeg and,
when given, Debian's.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# The packages first, not bench/search.py (a script's own folder is first on the path).
sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(name: str, work: Callable[[], object]) -> None:
    wall, cpu = time.perf_counter(), cpu_seconds()
    work()
    print(
        f"{name:44s} {time.perf_counter() - wall:7.2f} s wall {cpu_seconds() - cpu:7.2f} s CPU"
        f"   load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def raw_figures(directory: Path) -> None:
    from ingest.image import camera_raw
    from ingest.image.decode import decode_for_renditions, open_image
    from ingest.image.renditions import LARGEST_EDGE
    from tests.raw_samples import make_dng

    for preview in (True, False):
        path = make_dng(
            directory / f"p{int(preview)}.dng", width=4000, height=3000, preview=preview
        )
        kind = "preview" if preview else "development"
        facts = camera_raw.read_facts(path, label="DNG")
        need = camera_raw.decode_need(facts, LARGEST_EDGE)
        print(
            f"12 MP DNG ({kind}): {path.stat().st_size / 1e6:.0f} MB, planned {need / 1e6:.0f} MB"
        )
        measure(
            f"  header (LibRaw child, {kind})", lambda p=path: camera_raw.read_facts(p, label="DNG")
        )

        def decode(p: Path = path) -> None:
            with open_image(p, label="DNG", max_pixels=200_000_000) as image:
                decode_for_renditions(image, label="DNG", path=p, long_edge=LARGEST_EDGE)

        measure(f"  decode for renditions ({kind})", decode)


def video_figures(directory: Path, builds: dict[str, str]) -> None:
    from ingest.sniff import HEAD_BYTES, sniff
    from ingest.video import commands, process
    from ingest.video.formats import demuxer_for
    from ingest.video.ladder import web_renditions
    from ingest.video.probe import probe
    from tests import video_clips
    from tests.test_video_legacy import LEGACY

    for clip, *_ in LEGACY:
        source = video_clips.render(clip, directory)
        label = sniff(source.read_bytes()[:HEAD_BYTES]).label
        info = probe(source, label=label)
        for build, binary in builds.items():
            outputs = [
                commands.WebOutput(spec, directory / f"{clip.name}-{build}-{spec.name}.mp4")
                for spec in web_renditions(info)
            ]
            args = commands.web_renditions_command(
                binary, source, demuxer=demuxer_for(label), info=info, outputs=outputs,
                loudness=None,
            )  # fmt: skip
            measure(
                f"{clip.name} ({build})",
                lambda a=args: process.run(process.Run(args=a, time_limit_s=300)),
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--debian", help="also convert with this ffmpeg (Debian's)")
    options = parser.parse_args()
    from tests.ffmpeg_builds import bundled

    builds = {"bundled": bundled()}
    if options.debian:
        builds["debian"] = options.debian
    with tempfile.TemporaryDirectory() as scratch:
        raw_figures(Path(scratch))
        video_figures(Path(scratch), builds)


if __name__ == "__main__":
    main()
