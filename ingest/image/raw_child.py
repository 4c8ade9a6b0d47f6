"""Runs in a child process: reads one camera RAW file with LibRaw (rawpy).

LibRaw parses a hostile file's maker structures in C, so it runs here, in a disposable
process with a memory cap, a CPU cap and a timeout (`ingest.image.camera_raw` starts it
through `ingest.child_process`); a crash or a hang costs this child, never the worker. It
imports nothing from Beeldbank so that it starts fast.

Usage: python raw_child.py facts PATH          -> JSON on stdout
       python raw_child.py preview PATH OUT    -> the embedded JPEG written to OUT
       python raw_child.py develop PATH OUT HALF -> 8-bit RGB rows written to OUT, JSON size
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import rawpy

# The start of a JPEG preview (its header segments, before the picture data), enough for
# the parent to read its frame header; EXIF segments are at most 64 kB each.
HEAD_BYTES = 256 * 1024


def main(argv: list[str]) -> int:
    mode, path = argv[1], argv[2]
    try:
        with rawpy.imread(path) as raw:
            if mode == "facts":
                return _emit(_facts(raw))
            if mode == "preview":
                data = bytes(raw.extract_thumb().data)
                with open(argv[3], "wb") as out:
                    out.write(data)
                return _emit({"bytes": len(data)})
            if mode == "develop":
                rgb = raw.postprocess(
                    use_camera_wb=True,
                    output_color=rawpy.ColorSpace.sRGB,
                    output_bps=8,
                    half_size=argv[4] == "1",
                )
                with open(argv[3], "wb") as out:
                    out.write(rgb.tobytes())
                return _emit({"width": int(rgb.shape[1]), "height": int(rgb.shape[0])})
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        return _emit({"error": type(exc).__name__, "detail": str(exc)[:200]})
    return _emit({"error": "usage", "detail": f"unknown mode {mode[:20]}"})


def _facts(raw: Any) -> dict[str, Any]:
    sizes = raw.sizes
    preview: dict[str, Any] | None = None
    try:
        thumb = raw.extract_thumb()
        if thumb.format == rawpy.ThumbFormat.JPEG:
            head = bytes(thumb.data[:HEAD_BYTES])
            preview = {"head": base64.b64encode(head).decode("ascii")}
    except rawpy.LibRawError:
        preview = None  # no thumbnail, or one LibRaw cannot hand out
    return {
        "width": int(sizes.width),
        "height": int(sizes.height),
        "raw_width": int(sizes.raw_width),
        "raw_height": int(sizes.raw_height),
        "flip": int(sizes.flip),
        "preview": preview,
    }


def _emit(facts: dict[str, Any]) -> int:
    sys.stdout.write(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
