"""Placeholders and perceptual hashes computed from a small rendition."""

from __future__ import annotations

import blurhash
import numpy as np
from PIL import Image

BANDS = 4
BAND_BITS = 16


def dhash(image: Image.Image) -> int:
    """64-bit difference hash: each bit says whether a pixel is brighter than its right neighbour."""
    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.int16)
    bits = (pixels[:, 1:] > pixels[:, :-1]).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def to_hex(value: int) -> str:
    return f"{value:016x}"


def bands(value: int) -> tuple[int, ...]:
    """The hash cut into four 16-bit bands (see Asset.phash_b0)."""
    mask = (1 << BAND_BITS) - 1
    return tuple((value >> (BAND_BITS * i)) & mask for i in range(BANDS))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def placeholder(image: Image.Image) -> str:
    """A blurhash (4x3 components) that the UI paints until the thumbnail arrives."""
    small = image.convert("RGB")
    small.thumbnail((32, 32), Image.Resampling.BILINEAR)
    x, y = (4, 3) if small.width >= small.height else (3, 4)
    return str(blurhash.encode(np.asarray(small), components_x=x, components_y=y))
