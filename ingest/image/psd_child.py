"""Runs in a child process: reads one Photoshop document (PSD/PSB) with psd-tools.

psd-tools parses a stranger's layer records, image resources and compressed channels, and
a crafted document can claim layers far larger than its header or pack gigabytes of
channel data into a few kilobytes of ZIP. So it runs here, in a disposable process with
a memory cap, a CPU cap and a timeout (`ingest.image.layered` starts it through
`ingest.child_process`): running out costs this child, never the worker. It imports
nothing from Beeldbank so that it starts fast.

Usage: python psd_child.py composite PATH OUT BUDGET   -> the composite's pixels written to
                                              OUT, JSON {"mode", "width", "height"}
(The XMP is read by the parent from the image resources, without psd-tools.)

BUDGET (bytes, or "unlimited") is handed to psd-tools' own allocation check, where it
has one (1.22 and later): an array it knows to be larger is refused before it is made.
The address-space cap stops what that check does not foresee.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# Modes whose pixels travel as Image.tobytes() and come back with Image.frombytes();
# anything else (a palette) is turned into RGBA first.
_PLAIN_MODES = frozenset({"1", "L", "LA", "RGB", "RGBA", "CMYK", "I", "I;16", "F"})


def main(argv: list[str]) -> int:
    mode, path = argv[1], argv[2]
    try:
        from psd_tools import PSDImage

        if mode == "composite":
            psd = _open(PSDImage, path, argv[4])
            image = psd.topil() if psd.has_preview() else None
            if image is None:  # saved without "maximise compatibility": from the layers
                image = psd.composite()
            if image is None:
                return _emit({"error": "empty"})
            if image.mode not in _PLAIN_MODES:
                image = image.convert("RGBA")
            with open(argv[3], "wb") as out:
                out.write(image.tobytes())
            return _emit({"mode": image.mode, "width": image.width, "height": image.height})
    except MemoryError:
        return _emit({"error": "memory"})
    except ImportError:
        return _emit({"error": "psd-tools"})
    except Exception as exc:  # a damaged or unknown document: psd-tools raises anything
        if isinstance(exc, ValueError) and "budget" in str(exc):  # its allocation check
            return _emit({"error": "memory", "detail": str(exc)[:200]})
        return _emit({"error": "unreadable", "detail": type(exc).__name__})
    return _emit({"error": "usage"})


def _open(psd_image: Any, path: str, budget: str) -> Any:
    limit: str | int = budget if budget == "unlimited" else int(budget)
    try:
        return psd_image.open(path, max_alloc_bytes=limit)
    except TypeError:  # a psd-tools without the check: the address-space cap alone
        return psd_image.open(path)


def _emit(answer: dict[str, Any]) -> int:
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
