"""Making a download from a photo: decode once at the smallest JPEG scale that still
covers the output (shrink-on-load), make it upright, cut the crop, scale, convert to sRGB
(print keeps its ICC profile), encode, and write the metadata (dam/file_metadata.py).

The crop is chosen by the caller (`choose`), which gets the upright size and, only when
it asks for one, an attention map (`attention_map`): the decode for that map is small
and separate, so a crop chosen from faces costs nothing extra.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageFilter

from dam import file_metadata
from dam.crops import FULL
from dam.errors import UnsupportedMedia
from dam.geometry import Box
from dam.presets import Spec, output_size

ATTENTION_EDGE = 64  # the attention map's longest side, in cells
_TRANSPOSE = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}
# Where a point (u, v) of the upright picture (fractions) lies in the stored one.
_TO_STORED: dict[int, Callable[[float, float], tuple[float, float]]] = {
    1: lambda u, v: (u, v),
    2: lambda u, v: (1 - u, v),
    3: lambda u, v: (1 - u, 1 - v),
    4: lambda u, v: (u, 1 - v),
    5: lambda u, v: (v, u),
    6: lambda u, v: (v, 1 - u),
    7: lambda u, v: (1 - v, 1 - u),
    8: lambda u, v: (1 - v, u),
}
_SWAPS = frozenset({5, 6, 7, 8})  # orientations whose stored width is the upright height
# Outputs up to this size are encoded and given their metadata in memory, then written
# once (crops, web, large); a full-size print file is written first and edited in place.
IN_MEMORY_PIXELS = 8_000_000
_SRGB = ImageCms.createProfile("sRGB")
_SRGB_BYTES = ImageCms.ImageCmsProfile(_SRGB).tobytes()


@dataclass(frozen=True)
class Rendered:
    path: Path
    width: int
    height: int
    crop: Box


def upright_size(im: Image.Image) -> tuple[int, int, int]:
    """(width, height, orientation) of the picture as it is meant to be seen."""
    orientation = int(im.getexif().get(0x0112, 1) or 1)
    if orientation not in _TO_STORED:  # a value no camera writes: shown as stored
        orientation = 1
    w, h = im.size
    return (h, w, orientation) if orientation in (5, 6, 7, 8) else (w, h, orientation)


def attention_map(source: Path) -> np.ndarray:
    """Where the eye goes, in at most ATTENTION_EDGE cells a side (upright): edges, strong
    colours and skin tones, as libvips' attention strategy weighs them."""
    with Image.open(source) as im:
        orientation = upright_size(im)[2]
        im.draft("RGB", (ATTENTION_EDGE * 4, ATTENTION_EDGE * 4))
        small = im.convert("RGB")
        small.thumbnail((ATTENTION_EDGE * 2, ATTENTION_EDGE * 2), Image.Resampling.BILINEAR)
        for op in _TRANSPOSE.get(orientation, []):
            small = small.transpose(op)
    edges = np.asarray(small.convert("L").filter(ImageFilter.FIND_EDGES), dtype=np.float32)
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32)
    rgb = np.asarray(small, dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Skin: red above green above blue, within a band of brightness (a coarse rule that
    # holds across skin tones under daylight).
    skin = ((r > 60) & (r > g * 1.1) & (g > b) & (r - b > 15) & (r < 250)).astype(np.float32)
    energy = edges / 255.0 + 0.5 * hsv[..., 1] / 255.0 + 1.5 * skin
    cells = Image.fromarray(energy.astype(np.float32), mode="F")
    w, h = cells.size
    scale = ATTENTION_EDGE / max(w, h)
    cells = cells.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    return np.asarray(cells, dtype=np.float32)


def render(
    source: Path,
    target: Path,
    *,
    spec: Spec,
    choose: Callable[[int, int], Box],
    meta: file_metadata.FileMetadata,
    max_pixels: int,
) -> Rendered:
    """Write the download for `spec` to `target`; `choose(width, height)` gives the crop
    (fractions of the upright image). UnsupportedMedia for a file Pillow cannot read."""
    picture, icc, orientation, box, (out_w, out_h) = _decode(source, spec, choose, max_pixels)
    # Cut and scaled as stored, turned upright last: the transpose moves the output's
    # pixels, not the decoded picture's (Lanczos is separable: the same pixels either way).
    pw, ph = picture.size
    rect = stored_rect(box, orientation, pw, ph)
    size = (out_h, out_w) if orientation in _SWAPS else (out_w, out_h)
    if size != (round(rect[2] - rect[0]), round(rect[3] - rect[1])):
        picture = picture.resize(size, Image.Resampling.LANCZOS, box=rect, reducing_gap=3.0)
    elif rect != (0, 0, pw, ph):
        picture = picture.crop(tuple(round(v) for v in rect))  # type: ignore[arg-type]
    for op in _TRANSPOSE.get(orientation, []):
        picture = picture.transpose(op)
    if isinstance(picture, ImageFile.ImageFile):  # nothing was cut, scaled or turned
        picture = picture.copy()  # a plain picture: a TIFF's own tags (XMP, IPTC) stay behind
    # Nothing of the source's info travels (Pillow writes a JPEG comment it finds there):
    # the file says only what is written into it below.
    picture.info = {}
    picture, profile = _colour(picture, icc, keep=spec.preset.icc)
    if picture.width * picture.height <= IN_MEMORY_PIXELS:
        # Encoded and given its metadata in memory, written once.
        buffer = BytesIO()
        _encode(picture, buffer, spec, profile, meta)
        data = buffer.getvalue()
        if spec.fmt in file_metadata.WRITABLE:
            data = file_metadata.written(data, spec.fmt, meta)
        target.write_bytes(data)
    else:  # a full-size print file: not held in memory twice
        _encode(picture, target, spec, profile, meta)
        if spec.fmt in file_metadata.WRITABLE:
            file_metadata.write(target, spec.fmt, meta)
    return Rendered(path=target, width=picture.width, height=picture.height, crop=box)


def _decode(
    source: Path, spec: Spec, choose: Callable[[int, int], Box], max_pixels: int
) -> tuple[Image.Image, bytes | None, int, Box, tuple[int, int]]:
    """The picture as stored, decoded at the smallest JPEG scale that covers the output
    (RGB, RGBA or sRGB from CMYK), its ICC profile, its orientation, the crop and the
    output's upright size."""
    try:
        im = Image.open(source)
    except (OSError, ValueError) as exc:
        raise UnsupportedMedia("This picture cannot be read to make the download.") from exc
    with im:
        if im.width * im.height > max_pixels:
            raise UnsupportedMedia("This picture is too large to convert.")
        width, height, orientation = upright_size(im)
        box = choose(width, height) if spec.cropped else FULL
        crop_w, crop_h = box.w * width, box.h * height
        out = output_size(crop_w, crop_h, spec)
        scale = out[0] / crop_w
        stored = (im.width, im.height)
        im.draft(im.mode if im.mode in ("RGB", "L", "CMYK") else None, _at_least(stored, scale))
        icc = im.info.get("icc_profile")
        mode = "RGBA" if _has_alpha(im) else "RGB"
        if im.mode == "CMYK":  # print files: through their profile to sRGB, never naive
            return _from_cmyk(im, icc), None, orientation, box, out
        if im.mode == mode:  # decoded once, not copied
            im.load()
            return im, icc, orientation, box, out
        return im.convert(mode), icc, orientation, box, out


def stored_rect(
    box: Box, orientation: int, width: int, height: int
) -> tuple[float, float, float, float]:
    """The crop `box` (fractions of the upright picture) in pixels of a `width` x `height`
    picture stored with the EXIF `orientation`."""
    corners = [_TO_STORED[orientation](u, v) for u, v in ((box.x, box.y), (box.right, box.bottom))]
    xs = sorted(x for x, _ in corners)
    ys = sorted(y for _, y in corners)
    return (xs[0] * width, ys[0] * height, xs[1] * width, ys[1] * height)


def _at_least(stored: tuple[int, int], scale: float) -> tuple[int, int]:
    return (math.ceil(stored[0] * scale) + 1, math.ceil(stored[1] * scale) + 1)


def _from_cmyk(im: Image.Image, icc: bytes | None) -> Image.Image:
    """CMYK pixels as sRGB through their own profile (Pillow's plain conversion when the
    profile is missing or unreadable)."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc))
            converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError):
            pass
    return im.convert("RGB")


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def _colour(
    picture: Image.Image, icc: bytes | None, *, keep: bool
) -> tuple[Image.Image, bytes | None]:
    """sRGB pixels (with no profile needed), or for print the pixels in their own profile
    with that profile embedded (sRGB's when the file had none)."""
    if keep:
        return picture, icc or _SRGB_BYTES
    if not icc:
        return picture, None
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return picture, None
        mode = picture.mode
        return ImageCms.profileToProfile(picture, source, _SRGB, outputMode=mode), None  # type: ignore[return-value]
    except (ImageCms.PyCMSError, OSError):
        return picture, None  # an unreadable profile: the pixels as they are


def _encode(
    picture: Image.Image,
    target: Path | BytesIO,
    spec: Spec,
    icc: bytes | None,
    meta: file_metadata.FileMetadata,
) -> None:
    fmt = spec.fmt
    extra: dict[str, object] = {"icc_profile": icc} if icc else {}
    if fmt == "jpeg":
        if picture.mode == "RGBA":
            flat = Image.new("RGB", picture.size, (255, 255, 255))
            flat.paste(picture, mask=picture.getchannel("A"))
            picture = flat
        picture.save(target, "JPEG", quality=spec.preset.quality, **extra)
    elif fmt == "webp":
        picture.save(target, "WEBP", quality=82, method=4, **extra)
    elif fmt == "avif":
        exif = Image.Exif()
        exif[0x0112] = 1
        picture.save(
            target,
            "AVIF",
            quality=70,
            speed=8,
            xmp=file_metadata.xmp_packet(meta),
            exif=exif.tobytes(),
            **extra,
        )
    elif fmt == "png":
        picture.save(target, "PNG", compress_level=6, **extra)
    elif fmt == "tiff":
        picture.save(target, "TIFF", compression="tiff_adobe_deflate", **extra)
    else:  # presets.resolve admits nothing else
        raise ValueError(f"no encoder for {fmt}")
