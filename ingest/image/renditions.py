"""Rendition specifications and encoding (from one decoded image)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from ingest.image.geometry import fit_within
from ingest.image.resample import shrink


@dataclass(frozen=True)
class RenditionSpec:
    name: str
    long_edge: int
    format: str  # Pillow format name
    quality: int
    webp_method: int = 4  # libwebp's effort, 0-6 (WebP only)

    @property
    def mime(self) -> str:
        return {"JPEG": "image/jpeg", "WEBP": "image/webp"}[self.format]

    @property
    def extension(self) -> str:
        return {"JPEG": "jpg", "WEBP": "webp"}[self.format]


IMAGE_RENDITIONS: tuple[RenditionSpec, ...] = (
    RenditionSpec("large", 2560, "JPEG", 85),
    RenditionSpec("preview", 1600, "WEBP", 80, webp_method=2),
    RenditionSpec("thumb", 400, "WEBP", 75),
)

LARGEST_EDGE = max(spec.long_edge for spec in IMAGE_RENDITIONS)

# Lanczos (3 lobes) is what libvips' thumbnail uses: the sharpest of Pillow's filters
# without ringing worth mentioning. Bicubic would save ~20% of a resize at a visible cost
# in crispness on the large rendition; NEAREST/BOX alone would alias. Steps of less than
# 2x run it through OpenCV (ingest/image/resample.py), bigger ones through Pillow.
# A step of 2x or more starts with Image.reduce() (a box average by an integer factor,
# several times cheaper than Lanczos), leaving Lanczos at least 2x to do: the same split
# libvips makes (vips_resize's default gap is 2.0). Between our renditions this only
# applies to thumb from preview (4x); large and preview are 1.2-1.6x steps.
REDUCING_GAP = 2.0

# Encoder settings, chosen deliberately (bench/ingest_images.py gives libvips the same):
# - JPEG: baseline libjpeg-turbo, 4:2:0. Huffman optimisation costs 2.4x the encode time
#   for 2% smaller files, progressive 6x for 7% (measured on the 2560 rendition of a
#   24-megapixel photo); the large rendition is a download, not a page element.
# - WebP: method 4 is libwebp's default effort, the knee of its speed/size curve
#   (method 6 takes 2.8x the time for 3% smaller files). The 1600 px preview, made for
#   every photo and the largest single step of the photo pipeline at method 4 (~0.14 CPU
#   s of a 24-megapixel photo's ~0.6), uses method 2: 0.4x the time for 1.5-3% more bytes
#   and 0.1-0.2 dB lower PSNR on real photos (+4% and -0.5 dB on the bench's noisy
#   synthetic ones; docs/models.md). Thumbnails, 25 to a grid page, keep method 4.
_JPEG_OPTIONS = {"subsampling": "4:2:0", "optimize": False, "progressive": False}


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
    # Largest first, each resized from the one before it: every resize then starts from the
    # nearest larger image, so the full picture is resampled once and the later steps work
    # on fewer pixels (preview from large costs ~75% of preview from the decoded original).
    for spec in sorted(specs, key=lambda s: -s.long_edge):
        size = fit_within(current.width, current.height, spec.long_edge)
        if size != current.size:
            current = shrink(current, size, reducing_gap=REDUCING_GAP)
        results.append(EncodedRendition(spec, current.width, current.height, encode(current, spec)))
    return results, current


def encode(image: Image.Image, spec: RenditionSpec) -> bytes:
    buffer = io.BytesIO()
    if spec.format == "JPEG":
        if image.mode != "RGB":
            image = _flatten(image)
        image.save(buffer, "JPEG", quality=spec.quality, **_JPEG_OPTIONS)
    else:
        image.save(buffer, "WEBP", quality=spec.quality, method=spec.webp_method)
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG has no alpha: composite on white, which is how a page would show it."""
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
