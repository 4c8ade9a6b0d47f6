"""Open photos safely and bring them to upright sRGB, decoding only as much as needed."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps

from dam.errors import ProcessingError
from ingest.image.errors import explain
from ingest.image.geometry import fit_within, upright_size

pillow_heif.register_heif_opener()
Image.init()

# Formats Pillow may pick after sniffing; anything else in a file is refused.
FORMATS = [f for f in ("JPEG", "MPO", "PNG", "GIF", "WEBP", "TIFF", "HEIF", "AVIF") if f in Image.OPEN]

# Truncated files must fail, not render half an image.
ImageFile.LOAD_TRUNCATED_IMAGES = False

_SRGB = ImageCms.createProfile("sRGB")


@contextmanager
def open_image(path: Path, *, label: str, max_pixels: int) -> Iterator[Image.Image]:
    """Open an image lazily; refuse one over `max_pixels` before decoding any pixel."""
    # Pillow's own bomb check warns at its default and raises at twice that; ours is the
    # configured limit, so Pillow's is set above it and our check below comes first.
    Image.MAX_IMAGE_PIXELS = max_pixels * 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=FORMATS)
    except Exception as exc:
        raise ProcessingError(explain(exc, label=label, path=path)) from None
    try:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ProcessingError(f"The {label} file says it is {width} × {height} pixels.")
        if width * height > max_pixels:
            raise ProcessingError(
                f"The image is {width:,} × {height:,} pixels ({width * height / 1e6:.0f} "
                f"megapixels), more than the limit of {max_pixels / 1e6:.0f} megapixels."
            )
        yield image
    finally:
        image.close()


def orientation_of(image: Image.Image) -> int | None:
    try:
        value = image.getexif().get(0x0112)
    except Exception:
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def upright_dimensions(image: Image.Image) -> tuple[int, int]:
    return upright_size(image.width, image.height, orientation_of(image))


def decode_for_renditions(
    image: Image.Image, *, label: str, path: Path, long_edge: int
) -> Image.Image:
    """Decode once at the smallest scale that still covers `long_edge`, upright, in sRGB."""
    target = fit_within(image.width, image.height, long_edge)
    try:
        if image.format == "JPEG" or image.format == "MPO":
            # DCT scaling: libjpeg decodes straight to 1/2, 1/4 or 1/8 size.
            image.draft(None, target)
        image.seek(0)
        image.load()
        pixels = to_display_mode(image)
        pixels = ImageOps.exif_transpose(pixels) if orientation_of(image) not in (None, 1) else pixels
        goal = fit_within(pixels.width, pixels.height, long_edge)
        if goal != pixels.size:
            pixels = pixels.resize(goal, Image.Resampling.LANCZOS, reducing_gap=3.0)
    except ProcessingError:
        raise
    except Exception as exc:
        raise ProcessingError(explain(exc, label=label, path=path)) from None
    return pixels


def to_display_mode(image: Image.Image) -> Image.Image:
    """RGB or RGBA in sRGB, whatever the file's mode, bit depth or colour profile."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        image = _to_8bit_gray(image)
        mode = "L"
    icc = image.info.get("icc_profile")
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode == "P" and "transparency" in image.info
    )
    if icc and mode in ("RGB", "RGBA", "CMYK", "L", "LA"):
        converted = _apply_icc(image, icc, has_alpha)
        if converted is not None:
            return converted
    return image.convert("RGBA" if has_alpha else "RGB")


def _apply_icc(image: Image.Image, icc: bytes, has_alpha: bool) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return None  # already sRGB: a transform would cost time and change nothing
        alpha = image.getchannel("A") if has_alpha and "A" in image.getbands() else None
        base = image.convert("RGB") if image.mode in ("RGBA", "LA") else image
        converted = ImageCms.profileToProfile(base, source, _SRGB, outputMode="RGB")
        if converted is None:
            return None
        if alpha is not None:
            converted.putalpha(alpha)
        return converted
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None  # a broken profile: fall back to the plain conversion


def _to_8bit_gray(image: Image.Image) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        scaled = (values - low) / (high - low or 1.0) * 255.0
    else:
        top = float(values.max()) if values.size else 0.0
        scaled = values / 257.0 if top > 255 else values
    return Image.fromarray(np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8), "L")
