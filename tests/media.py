"""Media factories: every test image is generated here, in code.

The factories are deterministic (a seed draws the scene and its noise), so each worker
makes a given picture once and hands out the same bytes after that: the sqlite and
postgresql variants of a test, and the tests that upload the same picture, no longer
draw it again (a 5200x3000 camera JPEG takes ~3 s of CPU, a 3000x2000 one ~1 s). Bytes
cannot be changed by the test that gets them."""

from __future__ import annotations

import functools
import io

from PIL import Image

from ingest.demo import exif_block, jpeg_bytes, scene, store_oriented

_CACHED = 64


def jpeg(
    width: int = 640, height: int = 480, *, seed: int = 1, orientation: int = 1, **exif: object
) -> bytes:
    """A JPEG whose upright picture is width x height, stored with `orientation`."""
    try:
        return _jpeg(width, height, seed, orientation, tuple(sorted(exif.items())))
    except TypeError:  # an EXIF value that cannot be a cache key (a list): made afresh
        return _make_jpeg(width, height, seed, orientation, exif)


@functools.lru_cache(maxsize=_CACHED)
def _jpeg(
    width: int, height: int, seed: int, orientation: int, exif: tuple[tuple[str, object], ...]
) -> bytes:
    return _make_jpeg(width, height, seed, orientation, dict(exif))


def _make_jpeg(
    width: int, height: int, seed: int, orientation: int, exif: dict[str, object]
) -> bytes:
    upright = scene(width, height, seed=seed)
    return jpeg_bytes(
        store_oriented(upright, orientation), exif=exif_block(orientation=orientation, **exif)
    )  # type: ignore[arg-type]


@functools.lru_cache(maxsize=_CACHED)
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
