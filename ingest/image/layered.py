"""Photoshop documents (PSD, and PSB for the large ones) through their composite image.

Photoshop stores the flattened picture next to the layers ("maximise compatibility", on
by default); psd-tools reads that. A document saved without it is composited from its
layers by psd-tools. Layers are never edited; the original is kept as uploaded. What the
decode costs is planned from the 26-byte header before anything is read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from dam.errors import N_, ProcessingError
from ingest.image.camera_raw import FULL_SIZE
from ingest.image.errors import too_many_pixels

log = logging.getLogger(__name__)

LABELS = frozenset({"PSD", "PSB"})
_WORKING_COPIES = 2


@dataclass(frozen=True)
class PsdHeader:
    width: int
    height: int
    channels: int
    depth: int  # bits per channel: 1, 8, 16 or 32


def read_header(path: Path, *, label: str) -> PsdHeader:
    with path.open("rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[:4] != b"8BPS":
        raise ProcessingError(
            N_("The %(label)s file has no Photoshop header; it is damaged."),
            params={"label": label},
        )
    return PsdHeader(
        width=int.from_bytes(head[18:22], "big"),
        height=int.from_bytes(head[14:18], "big"),
        channels=int.from_bytes(head[12:14], "big"),
        depth=int.from_bytes(head[22:24], "big"),
    )


def decode_need(header: PsdHeader, long_edge: int) -> int:
    """Bytes reading the composite and making renditions up to `long_edge` take."""
    pixels = header.width * header.height
    stored = pixels * max(1, header.channels) * max(1, header.depth) // 8
    output = min(pixels, long_edge * long_edge) * 4 * _WORKING_COPIES
    # psd-tools decodes channel by channel into numpy arrays (float for 16/32 bits).
    return stored * 2 + pixels * 4 * _WORKING_COPIES + output


@contextmanager
def open_layered(
    path: Path, *, label: str, max_pixels: int, header_only: bool = False
) -> Iterator[Image.Image]:
    """The document's composite as a Pillow image with its XMP. With `header_only`, a
    1 x 1 stand-in with the XMP and the size (FULL_SIZE): nothing is decoded."""
    header = read_header(path, label=label)
    size = (header.width, header.height)
    if header.width <= 0 or header.height <= 0:
        raise ProcessingError(
            N_("The %(label)s file says its picture is empty; it is damaged."),
            params={"label": label},
        )
    if header.width * header.height > max_pixels:
        raise too_many_pixels(header.width * header.height, max_pixels, size)
    try:
        from psd_tools import PSDImage

        psd = PSDImage.open(path)
        image: Image.Image | None
        if header_only:
            image = Image.new("RGB", (1, 1))
            image.info[FULL_SIZE] = size
        else:
            image = psd.topil() if psd.has_preview() else None
            if image is None:
                image = psd.composite()
        xmp = psd.image_resources.get_data(1060)  # XMP metadata, as Photoshop keeps it
    except ProcessingError:
        raise
    except ImportError:
        raise ProcessingError(
            "Photoshop files need psd-tools, which is not installed on this server. "
            "The original is kept."
        ) from None
    except Exception as exc:
        log.info("psd-tools could not read a %s file: %s", label, type(exc).__name__)
        raise ProcessingError(
            N_(
                "The %(label)s file could not be read: it is damaged, or from a Photoshop "
                "version psd-tools does not know. The original is kept."
            ),
            params={"label": label},
        ) from None
    if image is None:
        raise ProcessingError(
            N_("The %(label)s file holds no picture to show. The original is kept."),
            params={"label": label},
        )
    if isinstance(xmp, bytes):
        image.info["xmp"] = xmp
    try:
        yield image
    finally:
        image.close()
