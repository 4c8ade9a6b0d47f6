"""Media factories: every test image is generated here, in code."""

from __future__ import annotations

import io

from PIL import Image

from ingest.demo import exif_block, jpeg_bytes, scene, store_oriented


def jpeg(
    width: int = 640, height: int = 480, *, seed: int = 1, orientation: int = 1, **exif: object
) -> bytes:
    """A JPEG whose upright picture is width x height, stored with `orientation`."""
    upright = scene(width, height, seed=seed)
    return jpeg_bytes(
        store_oriented(upright, orientation), exif=exif_block(orientation=orientation, **exif)
    )  # type: ignore[arg-type]


def png(width: int = 320, height: int = 240, *, mode: str = "RGB", seed: int = 2) -> bytes:
    image = scene(width, height, seed=seed)
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()
