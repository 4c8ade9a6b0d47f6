"""Pure size arithmetic for renditions and EXIF orientation."""

from __future__ import annotations

# EXIF orientations 5-8 turn the image a quarter, so width and height swap.
_SWAPS_AXES = {5, 6, 7, 8}


def upright_size(width: int, height: int, orientation: int | None) -> tuple[int, int]:
    """Width and height once the EXIF orientation is applied."""
    if orientation in _SWAPS_AXES:
        return height, width
    return width, height


def fit_within(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """The size that fits `long_edge` on the longer side, never larger than the source."""
    longest = max(width, height)
    if longest <= long_edge:
        return width, height
    scale = long_edge / longest
    return max(1, round(width * scale)), max(1, round(height * scale))
