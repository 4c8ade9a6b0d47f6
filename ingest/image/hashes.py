"""Placeholders and perceptual hashes computed from a small rendition."""

from __future__ import annotations

import blurhash
import numpy as np
from PIL import Image

BANDS = 4
BAND_BITS = 16

# DCT-II basis for a 32x32 block (orthonormal); the hash keeps its 8x8 lowest frequencies.
_SIDE, _KEEP = 32, 8
_k = np.arange(_SIDE)
_DCT = np.sqrt(2 / _SIDE) * np.cos(np.pi * (2 * _k[None, :] + 1) * _k[:, None] / (2 * _SIDE))
_DCT[0] /= np.sqrt(2)


def phash(image: Image.Image) -> int:
    """64-bit perceptual hash: which of the 8x8 lowest DCT frequencies lie above their median.

    A difference hash (neighbouring pixels compared) flips bits wherever the picture is flat,
    as skies and walls are, so a mere resize moved it by up to 8 bits; the low frequencies
    move by at most 2 under resizing, recompression or slight blur, which keeps real
    near-duplicates inside the 3-bit similarity window.
    """
    small = image.convert("L").resize((_SIDE, _SIDE), Image.Resampling.BOX)
    pixels = np.asarray(small, dtype=np.float64)
    # Rounded so that float noise (~1e-13 on flat areas, varying with the BLAS build) cannot
    # decide a bit: a solid logo must hash the same on every machine.
    low = np.round((_DCT @ pixels @ _DCT.T)[:_KEEP, :_KEEP].flatten(), 6)
    value = 0
    for bit in low > np.median(low):
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
    if small.width < 8 or small.height < 8:
        # With fewer pixels than cosine components every basis function samples the same
        # spot, and the "detail" terms shift the whole colour (a green 1x1 PNG came out
        # a third darker). Enough pixels per axis keep them at zero for flat input.
        small = small.resize((max(8, small.width), max(8, small.height)), Image.Resampling.BOX)
    return str(blurhash.encode(np.asarray(small), components_x=x, components_y=y))
