"""Where small faces can be: the parts of a photo worth a close look.

Looking for faces of 20-40 px over a whole 24-megapixel photo costs P-Net several times
what the photo's renditions cost, almost all of it on sky, grass, walls and water. A face
shows skin, and skin of every tone sits in a narrow band of chroma (Cr, Cb in YCbCr;
brightness varies with tone and light, chroma much less): only blocks with such colours,
grown by the size of the faces each level of the search looks for, get the fine search.
Photos without colour (black and white, or nearly so) give no such hint and are searched
whole. Measured in bench/faces.py and docs/models.md.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ingest.faces.mtcnn import Region

BLOCK = 4  # px of the working image per mask cell: a 10 px face still fills 2 x 2 cells
# Generous bounds around the usual skin chroma box (Cr 133-173, Cb 77-127): warm indoor
# light and tanned or dark skin move chroma outwards, a miss costs a person, a false
# alarm only time.
CR_RANGE = (128, 185)
CB_RANGE = (70, 135)
Y_MIN = 25  # below this, chroma is noise
GREY_CHROMA = 6  # |Cr - 128| + |Cb - 128| of (nearly) every cell below this: no colour
WHOLE_FRAME_SHARE = 0.6  # regions covering more than this: one search of the whole frame
# Skin cells count only next to a cell this far inside the chroma bounds. A colour that
# lies on a bound (a sunset or a purple sky fading through it) puts every other cell of a
# textured area inside, at random: speckle that neither opening removes, and that sent
# P-Net over a third of such photos. A face's cells vary by more than this (cheeks, nose,
# forehead), so one of them lies inside.
CORE_MARGIN = 3


def skin_masks(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per BLOCK x BLOCK cell, whether its mean colour could be skin, and whether it lies
    CORE_MARGIN inside the chroma bounds (None: the photo has no colour)."""
    height, width = rgb.shape[:2]
    small = cv2.resize(
        rgb,
        (max(1, width // BLOCK), max(1, height // BLOCK)),
        interpolation=cv2.INTER_AREA,
    )
    ycrcb = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = ycrcb[..., 0], ycrcb[..., 1], ycrcb[..., 2]
    chroma = np.abs(cr.astype(np.int16) - 128) + np.abs(cb.astype(np.int16) - 128)
    if float(np.percentile(chroma, 99)) < GREY_CHROMA:
        return None

    def inside(margin: int) -> np.ndarray:
        found: np.ndarray = (
            (cr >= CR_RANGE[0] + margin)
            & (cr <= CR_RANGE[1] - margin)
            & (cb >= CB_RANGE[0] + margin)
            & (cb <= CB_RANGE[1] - margin)
            & (y >= Y_MIN)
        )
        return found

    return inside(0), inside(CORE_MARGIN)


class SkinMap:
    """Where faces up to `largest_face` px may show skin in an RGB picture: its cells of
    BLOCK x BLOCK px, computed once; `regions(face)` are the rectangles to search for faces
    of up to `face` px (each level of the search asks for its own size: the smallest faces,
    the most costly to look for, are looked for closest to their skin)."""

    def __init__(self, rgb: np.ndarray, *, largest_face: float) -> None:
        self.height, self.width = rgb.shape[:2]
        self.cells = skin_cells(rgb, largest_face=largest_face)
        self._regions: dict[int, list[Region]] = {}

    def any(self) -> bool:
        """Whether anything is to be searched (no colour: the whole frame is)."""
        return self.cells is None or bool(self.cells.any())

    def regions(self, face: float) -> list[Region]:
        """Rectangles that could hold a face of up to `face` px around its skin."""
        whole = [(0, 0, self.width, self.height)]
        if self.cells is None:
            return whole
        if not self.cells.any():
            return []
        # Grow each skin cell by a face (and P-Net's window around it) in every direction.
        reach = max(1, math.ceil(face / BLOCK))
        found = self._regions.get(reach)
        if found is None:
            found = self._regions[reach] = _around(self.cells, reach, self.width, self.height)
        return found


def skin_cells(rgb: np.ndarray, *, largest_face: float) -> np.ndarray | None:
    """Per BLOCK x BLOCK cell, whether a face of at most `largest_face` px may show skin
    there (None: the photo has no colour to go by)."""
    found = skin_masks(rgb)
    if found is None:
        return None
    mask, core = found
    # Skin wider than a face in every direction (a wall, sand, a sunset sky; or arms and
    # faces big enough for the whole-frame search) is no small face: an opening keeps only
    # such areas, and they are taken out. A small face against them still sticks out.
    # (Closing the holes that texture leaves in such an area first took out more of it, and
    # with it faces in front of skin-coloured walls: 0.95 -> 0.83 recall of 40-79 px faces
    # in tests/test_faces_camera.py's frames.)
    span = max(3, 2 * math.ceil(largest_face / BLOCK) + 1)
    wide = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((span, span), np.uint8))
    mask = mask & (wide == 0)
    # Then only skin next to a cell well inside the bounds (CORE_MARGIN), after the opening:
    # before it, the holes this leaves in a wide area would keep the area.
    mask &= cv2.dilate(core.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    # A lone cell is chroma noise or texture; a face of 20 px in the original still
    # covers 2 x 2 cells of a 2560 px picture.
    cells: np.ndarray = (
        cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    )
    return cells


def small_face_regions(rgb: np.ndarray, *, largest_face: float) -> list[Region]:
    """Rectangles of the image that could hold a face up to `largest_face` px."""
    return SkinMap(rgb, largest_face=largest_face).regions(largest_face)


def _around(cells: np.ndarray, reach: int, width: int, height: int) -> list[Region]:
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    grown = cv2.dilate(cells.astype(np.uint8), kernel)
    if grown.mean() > WHOLE_FRAME_SHARE:
        return [(0, 0, width, height)]
    count, _labels, stats, _centres = cv2.connectedComponentsWithStats(grown, connectivity=8)
    regions = []
    for x, y, w, h, _area in stats[1:count]:
        regions.append(
            (
                int(x) * BLOCK,
                int(y) * BLOCK,
                min(width, int(x + w) * BLOCK),
                min(height, int(y + h) * BLOCK),
            )
        )
    return merged(regions)


def merged(regions: list[Region]) -> list[Region]:
    """Overlapping rectangles joined into their bounding box, until none overlap."""
    out = list(regions)
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    out[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del out[j]
                    changed = True
                    break
            if changed:
                break
    return out
