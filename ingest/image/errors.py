"""Turn decoder exceptions into messages a person understands."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError

from dam.blobs import human_size


def explain(exc: BaseException, *, label: str, path: Path) -> str:
    """What went wrong with this file, in words, with the size where it matters."""
    size = _size(path)
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, Image.DecompressionBombError):
        return (
            f"The {label} image is too large to process safely ({text.split('(')[0].strip()}). "
            "Reduce its size and upload it again."
        )
    if isinstance(exc, MemoryError):
        return f"The {label} image needs more memory to decode than this server allows."
    if "truncated" in lowered or "broken data stream" in lowered or "premature end" in lowered:
        return (
            f"The file is cut off after {human_size(size)}: the {label} data ends early. "
            "Upload the complete file again."
        )
    if isinstance(exc, UnidentifiedImageError):
        return (
            f"The file starts like a {label} image but its contents cannot be read: "
            "it is damaged or not really an image."
        )
    if isinstance(exc, SyntaxError | ValueError | OSError | EOFError | IndexError | KeyError):
        detail = text.strip() or type(exc).__name__
        return f"The {label} file is damaged and cannot be decoded ({detail[:200]})."
    return f"The {label} file cannot be decoded ({type(exc).__name__})."


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
