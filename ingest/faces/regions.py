"""Where small faces can be: the parts of a photo worth a close look.

Looking for faces of 20-40 px over a whole 24-megapixel photo costs P-Net several times
what the photo's renditions cost, almost all of it on sky, grass, walls and water. A face
shows skin, and skin of every tone sits in a narrow band of chroma (Cr, Cb in YCbCr;
brightness varies with tone and light, chroma much less): only blocks with such colours,
grown by a face's size, get the fine search. Photos without colour (black and white, or
nearly so) give no such hint and are searched whole. Measured in bench/faces.py.
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


def skin_mask(rgb: np.ndarray) -> np.ndarray | None:
    """Per BLOCK x BLOCK cell, whether its mean colour could be skin (None: no colour)."""
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
    mask: np.ndarray = (
        (cr >= CR_RANGE[0])
        & (cr <= CR_RANGE[1])
        & (cb >= CB_RANGE[0])
        & (cb <= CB_RANGE[1])
        & (y >= Y_MIN)
    )
    return mask


def small_face_regions(rgb: np.ndarray, *, largest_face: float) -> list[Region]:
    """Rectangles of the image that could hold a face up to `largest_face` px."""
    height, width = rgb.shape[:2]
    whole = [(0, 0, width, height)]
    mask = skin_mask(rgb)
    if mask is None:
        return whole
    # Skin wider than a face in every direction (a wall, sand, a sunset sky; or arms and
    # faces big enough for the whole-frame search) is no small face: an opening keeps only
    # such areas, and they are taken out. A small face against them still sticks out.
    span = max(3, 2 * math.ceil(largest_face / BLOCK) + 1)
    wide = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((span, span), np.uint8))
    mask = mask & (wide == 0)
    # A lone cell is chroma noise or texture; a face of 20 px in the original still
    # covers 2 x 2 cells of a 2560 px picture.
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    if not mask.any():
        return []
    # Grow each skin cell by a face (and P-Net's window around it) in every direction.
    reach = max(1, math.ceil(largest_face / BLOCK))
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    grown = cv2.dilate(mask.astype(np.uint8), kernel)
    if grown.mean() > WHOLE_FRAME_SHARE:
        return whole
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
