"""`dam doctor` checks for what ingest needs: image codecs and ffmpeg."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

import pillow_heif
from PIL import __version__ as pillow_version
from PIL import features

from dam.doctor import Finding
from dam.runtime import Runtime
from ingest.ffmpeg import encoders, ffmpeg_binary

WANTED_ENCODERS = ("libx264", "aac", "libvpx-vp9", "libopus")


def check_image_codecs(_rt: Runtime) -> Iterable[Finding]:
    for name, feature in (
        ("JPEG", "jpg"),
        ("PNG", "zlib"),
        ("WebP", "webp"),
        ("AVIF", "avif"),
        ("TIFF", "libtiff"),
        ("colour management", "littlecms2"),
    ):
        ok = bool(features.check(feature))
        yield Finding(
            f"Pillow {name}",
            "ok" if ok else "missing",
            f"Pillow {pillow_version}" + ("" if ok else f": built without {feature}"),
        )
    yield Finding("HEIC/HEIF", "ok", f"pillow-heif {pillow_heif.__version__}")


def check_ffmpeg(_rt: Runtime) -> Iterable[Finding]:
    binary = ffmpeg_binary()
    if binary is None:
        yield Finding("ffmpeg", "missing", "not on PATH and imageio-ffmpeg is not installed")
        return
    try:
        version = subprocess.run(
            [binary, "-version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.splitlines()[0]
        have = encoders(binary)
    except (OSError, subprocess.SubprocessError) as exc:
        yield Finding("ffmpeg", "error", f"{binary}: {exc}"[:200])
        return
    yield Finding("ffmpeg", "ok", f"{binary}: {version[:80]}")
    for name in WANTED_ENCODERS:
        yield Finding(f"encoder {name}", "ok" if name in have else "missing", "")
