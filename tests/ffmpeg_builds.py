"""The ffmpeg builds the suite runs the pipeline with: the bundled one (imageio-ffmpeg,
the default) and Debian's own (`apt-get install ffmpeg`, installed by scripts/test), put
first on PATH the way a server has them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest import ffmpeg

# Where scripts/test puts Debian's ffmpeg; DAM_TEST_DEBIAN_FFMPEG names another copy.
DEBIAN = os.environ.get("DAM_TEST_DEBIAN_FFMPEG", "/usr/bin/ffmpeg")


def bundled() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@contextmanager
def first_on_path(binary: str, directory: Path) -> Iterator[None]:
    """`binary` is the `ffmpeg` found on PATH (and so the one Beeldbank chooses, when it
    qualifies) until the block ends."""
    link = directory / "ffmpeg"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path(binary).resolve())
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{directory}{os.pathsep}{before}"
    ffmpeg.choose.cache_clear()
    try:
        yield
    finally:
        os.environ["PATH"] = before
        ffmpeg.choose.cache_clear()
