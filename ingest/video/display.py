"""Display geometry: what a player shows, from coded size, pixel shape and display matrix."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Orientation:
    rotation: int  # degrees counter-clockwise a player turns the picture: 0, 90, 180, 270
    mirrored: bool


UPRIGHT = Orientation(0, False)


def orientation_from_matrix(matrix: Sequence[int] | None) -> Orientation:
    """The quarter turn (and mirroring) a display matrix asks for.

    The matrix is 3x3, row-major, 16.16 fixed point in its first two columns; a player
    turns the picture by the angle of its first column. Angles that are not quarter turns
    (a tilted camera) are rounded to the nearest one: browsers only honour those.
    """
    if matrix is None or len(matrix) != 9:
        return UPRIGHT
    a, b, c, d = (v / 65536 for v in (matrix[0], matrix[1], matrix[3], matrix[4]))
    scale_x, scale_y = math.hypot(a, c), math.hypot(b, d)
    if scale_x == 0 or scale_y == 0:
        return UPRIGHT
    mirrored = a * d - b * c < 0
    if mirrored:
        # Read it as a horizontal flip followed by a turn: undo the flip first.
        a, c = -a, -c
    angle = -math.degrees(math.atan2(b / scale_y, a / scale_x))
    rotation = round(angle / 90) * 90 % 360
    return Orientation(rotation, mirrored)


def display_size(
    width: int, height: int, sar: Fraction | None, orientation: Orientation
) -> tuple[int, int]:
    """The upright size in square pixels: pixel shape applied, then the turn."""
    if sar and sar > 0 and sar != 1:
        # Anamorphic pixels are stretched horizontally (height stays: it is lines).
        width = max(1, round(width * sar))
    if orientation.rotation in (90, 270):
        return height, width
    return width, height


def even_fit(width: int, height: int, box_long: int, box_short: int) -> tuple[int, int]:
    """The largest even size with the same shape that fits the box, never bigger than the
    source (x264 with 4:2:0 chroma needs even sides; a box of 1280x720 holds a portrait
    720x1280 as well)."""
    long_edge, short_edge = max(width, height), min(width, height)
    scale = min(Fraction(1), Fraction(box_long, long_edge), Fraction(box_short, short_edge))
    return _even(width * scale), _even(height * scale)


def _even(value: Fraction) -> int:
    return max(2, math.floor(value / 2) * 2)
