"""Rendition specifications and encoding (from one decoded image)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from ingest.image.geometry import fit_within


@dataclass(frozen=True)
class RenditionSpec:
    name: str
    long_edge: int
    format: str  # Pillow format name
    quality: int

    @property
    def mime(self) -> str:
        return {"JPEG": "image/jpeg", "WEBP": "image/webp"}[self.format]

    @property
    def extension(self) -> str:
        return {"JPEG": "jpg", "WEBP": "webp"}[self.format]


# Largest first: each is resized from the one before it, so the full image is decoded
# (at reduced DCT scale) once and every later resize works on fewer pixels.
# Encoder settings are deliberate: libjpeg-turbo at q85 without Huffman optimisation or
# progressive passes (each costs ~20-40% more time for ~3% size), libwebp at its default
# effort 4. bench/ingest_images.py gives libvips the same settings for comparison.
IMAGE_RENDITIONS: tuple[RenditionSpec, ...] = (
    RenditionSpec("large", 2560, "JPEG", 85),
    RenditionSpec("preview", 1600, "WEBP", 80),
    RenditionSpec("thumb", 400, "WEBP", 75),
)

LARGEST_EDGE = max(spec.long_edge for spec in IMAGE_RENDITIONS)


@dataclass(frozen=True)
class EncodedRendition:
    spec: RenditionSpec
    width: int
    height: int
    data: bytes


def make_renditions(
    upright: Image.Image, specs: tuple[RenditionSpec, ...] = IMAGE_RENDITIONS
) -> tuple[list[EncodedRendition], Image.Image]:
    """Encode every spec from `upright` (never upscaled); also return the smallest image."""
    results = []
    current = upright
    for spec in sorted(specs, key=lambda s: -s.long_edge):
        size = fit_within(current.width, current.height, spec.long_edge)
        if size != current.size:
            current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        results.append(
            EncodedRendition(spec, current.width, current.height, encode(current, spec))
        )
    return results, current


def encode(image: Image.Image, spec: RenditionSpec) -> bytes:
    buffer = io.BytesIO()
    if spec.format == "JPEG":
        if image.mode != "RGB":
            image = _flatten(image)
        image.save(buffer, "JPEG", quality=spec.quality, subsampling="4:2:0")
    else:
        image.save(buffer, "WEBP", quality=spec.quality, method=4)
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG has no alpha: composite on white, which is how a page would show it."""
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
