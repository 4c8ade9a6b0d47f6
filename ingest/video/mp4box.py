"""The top-level boxes of an MP4 file: how a finished, fast-start web version is told
from a half-written or empty one without decoding it."""

from __future__ import annotations

from pathlib import Path

from dam.errors import ProcessingError


def top_level_boxes(path: Path, *, limit: int = 64) -> list[tuple[str, int]]:
    """(type, size) of each top-level box, in file order."""
    boxes: list[tuple[str, int]] = []
    total = path.stat().st_size
    with path.open("rb") as fh:
        offset = 0
        while offset + 8 <= total and len(boxes) < limit:
            fh.seek(offset)
            header = fh.read(16)
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if size == 1 and len(header) == 16:
                size = int.from_bytes(header[8:16], "big")  # 64-bit box size
            elif size == 0:
                size = total - offset  # runs to the end of the file
            if size < 8:
                break
            boxes.append((kind, size))
            offset += size
    return boxes


def check_web_file(path: Path) -> None:
    """Raise ProcessingError unless `path` is a complete MP4 with its index up front."""
    boxes = top_level_boxes(path) if path.exists() else []
    kinds = [kind for kind, _ in boxes]
    mdat = next((size for kind, size in boxes if kind == "mdat"), 0)
    if "moov" not in kinds or mdat <= 8:
        raise ProcessingError(
            "The video yielded no pictures to convert: the file is damaged or holds an empty "
            "video track."
        )
    if kinds.index("moov") > kinds.index("mdat"):
        raise ProcessingError("The web version was not written for streaming; please retry.")
