"""Open photos safely and bring them to upright sRGB, decoding only as much as needed."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile

from dam.errors import N_, ProcessingError
from dam.numbers import Number
from dam.sizes import Size
from ingest.image import camera_raw, layered
from ingest.image.errors import explain, too_many_pixels
from ingest.image.geometry import fit_within, upright_size
from ingest.image.plan import JpegFrame, read_jpeg_frame
from ingest.image.renditions import LARGEST_EDGE
from ingest.image.resample import shrink

pillow_heif.register_heif_opener()
Image.init()

# Formats Pillow may pick after sniffing; anything else in a file is refused.
_WANTED: tuple[str, ...] = ("JPEG", "MPO", "PNG", "GIF", "WEBP", "TIFF", "HEIF", "AVIF")
FORMATS: list[str] = [f for f in _WANTED if f in Image.OPEN]

# Truncated files must fail, not render half an image.
ImageFile.LOAD_TRUNCATED_IMAGES = False

_SRGB = ImageCms.createProfile("sRGB")

# Pillow's TIFF plugin reports the upright size on open and turns the pixels itself on
# load (it then drops the tag), so its orientation must not be applied a second time.
_ORIENTED_BY_PILLOW = {"TIFF"}

# What undoes each EXIF orientation (CIPA DC-008 table 1).
_UNDO_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_HIGH_BIT_DEPTH = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


@contextmanager
def open_image(
    path: Path,
    *,
    label: str,
    max_pixels: int,
    long_edge: int = LARGEST_EDGE,
    header_only: bool = False,
) -> Iterator[Image.Image]:
    """Open an image lazily; refuse one over `max_pixels` before decoding any pixel.

    Everything done with the image inside the `with` block runs with decoder warnings
    silenced (see `_decoder_warnings_ignored`). A camera RAW gives its embedded preview
    (lazily) or its development for `long_edge`; a Photoshop document its composite; a
    TIFF of several pages its largest full-resolution page. `header_only`: the caller
    reads sizes and metadata only, so a RAW without a preview is not developed.
    """
    if camera_raw.is_camera_raw(path, label):
        with (
            _decoder_warnings_ignored(),
            camera_raw.open_camera_raw(
                path,
                label=label,
                max_pixels=max_pixels,
                long_edge=long_edge,
                header_only=header_only,
            ) as image,
        ):
            yield image
        return
    if label in layered.LABELS:
        with (
            _decoder_warnings_ignored(),
            layered.open_layered(
                path,
                label=label,
                max_pixels=max_pixels,
                long_edge=long_edge,
                header_only=header_only,
            ) as image,
        ):
            yield image
        return
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that. Our own check below
    # refuses anything over the limit first, with the dimensions in the message; Pillow's
    # still guards frames and sub-images that only grow past it while decoding.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with _decoder_warnings_ignored():
        try:
            image = Image.open(path, formats=FORMATS)
        except Exception as exc:
            raise explain(exc, label=label, path=path, max_pixels=max_pixels) from None
        try:
            page = main_page(image)
            if page:
                image.seek(page)
            width, height = image.size
            if width <= 0 or height <= 0:
                raise ProcessingError(
                    N_(
                        "The %(label)s file says its picture is %(width)s × %(height)s pixels, "
                        "which cannot be right: the file is damaged."
                    ),
                    params={"label": label, "width": Number(width), "height": Number(height)},
                )
            if width * height > max_pixels:
                raise too_many_pixels(width * height, max_pixels, (width, height))
            _refuse_cut_off(image, path, label)
            yield image
        finally:
            image.close()


_NEW_SUBFILE_TYPE = 254
_MAX_PAGES = 64


def main_page(image: Image.Image) -> int:
    """The page to show: for a TIFF of several pages (IFDs) the largest one that is not a
    reduced-resolution copy (a thumbnail or preview page), else the first. The pages are
    read through a second handle, so a damaged later page leaves `image` as it was."""
    filename = getattr(image, "filename", None)
    if image.format != "TIFF" or not filename:
        return 0
    best, best_area = 0, -1
    try:
        with Image.open(filename, formats=["TIFF"]) as pages:
            for page in range(_MAX_PAGES):
                if page:
                    pages.seek(page)  # EOFError after the last page
                reduced = int(pages.tag_v2.get(_NEW_SUBFILE_TYPE, 0) or 0) & 1  # type: ignore[attr-defined]
                area = pages.width * pages.height * (0 if reduced else 1)
                if area > best_area:
                    best, best_area = page, area
    except Exception:  # noqa: S110 (the end of the pages, or a damaged one)
        pass  # the pages read so far decide
    return best


def jpeg_frame(image: Image.Image, path: Path) -> JpegFrame | None:
    """The frame header of a JPEG (None for other formats or when it cannot be read)."""
    if image.format not in ("JPEG", "MPO"):
        return None
    try:
        with path.open("rb") as fh:
            return read_jpeg_frame(fh)
    except OSError:
        return None


def _refuse_cut_off(image: Image.Image, path: Path, label: str) -> None:
    # libjpeg pads missing data and allocates the whole picture anyway (ingest.image.plan).
    frame = jpeg_frame(image, path)
    if frame is None or not frame.smallest_file:
        return
    size = path.stat().st_size
    if size < frame.smallest_file:
        raise ProcessingError(
            N_(
                "The file is cut off: its header describes a picture of %(width)s × %(height)s "
                "pixels, which needs at least %(need)s, but the file holds %(size)s. Upload the "
                "complete file again."
            ),
            params={
                "width": Number(frame.width),
                "height": Number(frame.height),
                "need": Size(frame.smallest_file),
                "size": Size(size),
            },
        )


@contextmanager
def _decoder_warnings_ignored() -> Iterator[None]:
    # Pillow *warns* about damage it works around ("Corrupt EXIF data", "Invalid APNG, will
    # use default PNG image", "malformed MPO file"). Whether a warning is an error depends on
    # the process's filters (the test suite turns them into errors), and a photo must get
    # the same outcome everywhere. catch_warnings is process-wide, not per thread: if two
    # workers overlap, the worst case is a warning printed or ignored, never a failure.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # incl. DecompressionBombWarning
        yield


def orientation_of(image: Image.Image) -> int | None:
    """The EXIF orientation (2-8) still to be applied to the decoded pixels, if any."""
    if image.format in _ORIENTED_BY_PILLOW:
        return None
    try:
        value = image.getexif().get(0x0112)
    except Exception:
        return None  # unreadable EXIF: the pixels are shown as stored
    return value if isinstance(value, int) and 2 <= value <= 8 else None


def upright_dimensions(
    image: Image.Image, stored: tuple[int, int] | None = None
) -> tuple[int, int]:
    """Width and height as a person sees the photo, without decoding pixels. `stored`:
    the size the file gave before a decode at a smaller scale (a JPEG's draft) changed it.

    A PNG's EXIF may follow its pixels, so reading it decodes them; a decoding error there
    is swallowed (see orientation_of) and leaves the picture marked as loaded. Callers that
    will decode the pixels anyway ask after decoding, so that the error is theirs."""
    full = image.info.get(camera_raw.FULL_SIZE)
    if full is not None:  # a stand-in or a RAW developed at half size: the photo's size
        return int(full[0]), int(full[1])
    width, height = stored or image.size
    return upright_size(width, height, orientation_of(image))


def decode_for_renditions(
    image: Image.Image, *, label: str, path: Path, long_edge: int
) -> Image.Image:
    """Decode once at the smallest scale that still covers `long_edge`, upright, in sRGB."""
    try:
        if image.format == "JPEG" or image.format == "MPO":
            # DCT scaling: libjpeg decodes straight to 1/2, 1/4 or 1/8 size. draft() takes
            # the largest of those that keeps both sides at least the requested size, so ask
            # for the long edge only: a rounded-up short side (6827 / 4 -> 1707) would make
            # it settle for 1/2 where 1/4 covers `long_edge`.
            landscape = image.width >= image.height
            image.draft(None, (long_edge, 1) if landscape else (1, long_edge))
        image.seek(main_page(image))  # the first frame of a GIF or WebP
        image.load()
        # Read from the source: converted copies may not carry the EXIF block.
        orientation = orientation_of(image)
        pixels = image
        if image.mode in _RESIZE_BEFORE_CONVERSION:
            # Resize in the file's own colour space, then convert fewer pixels: an ICC
            # transform (Display P3, Adobe RGB) costs about as much per pixel as the resize.
            pixels = _fit(image, long_edge)
        elif image.mode in _EXPANDED or image.mode in _HIGH_BIT_DEPTH:
            # Not resampled as they are: made 8-bit first (the one copy at full size), then
            # resized, then converted like the others.
            pixels = _fit(_eight_bit(image), long_edge)
        pixels = _fit(to_display_mode(pixels), long_edge)
        if orientation is not None:
            pixels = pixels.transpose(_UNDO_ORIENTATION[orientation])  # the fewest pixels
    except ProcessingError:
        raise
    except Exception as exc:
        raise explain(exc, label=label, path=path) from None
    return pixels


# Modes Pillow resamples as they are (alpha premultiplied); palette, 1-bit and 16-bit
# images are converted to RGB/L first.
_RESIZE_BEFORE_CONVERSION = ("RGB", "RGBA", "L", "LA", "CMYK")
# Palettes hold colours in the file's space: expanded to RGB(A), the profile applied later.
_EXPANDED = ("P", "PA", "1")


def _eight_bit(image: Image.Image) -> Image.Image:
    """A palette, 1-bit or high-bit-depth picture as 8-bit RGB(A) or grey that Pillow can
    resample, with the colour profile kept for the conversion after the resize."""
    if image.mode in _HIGH_BIT_DEPTH:
        gray = _to_8bit_gray(image)
        if "icc_profile" in image.info:
            gray.info["icc_profile"] = image.info["icc_profile"]
        return gray
    has_alpha = image.mode == "PA" or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")  # keeps the profile in .info


def _fit(image: Image.Image, long_edge: int) -> Image.Image:
    goal = fit_within(image.width, image.height, long_edge)
    if goal == image.size:
        return image
    # reducing_gap 2.0: a box reduce by an integer factor first when the step is 4x or more
    # (huge PNG/TIFF scans), leaving Lanczos at least 2x, as libvips does.
    return shrink(image, goal, reducing_gap=2.0)


def to_display_mode(image: Image.Image) -> Image.Image:
    """RGB or RGBA in sRGB, whatever the file's mode, bit depth or colour profile."""
    icc = image.info.get("icc_profile")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    if image.mode in _HIGH_BIT_DEPTH:
        image = _to_8bit_gray(image)
    elif image.mode in ("P", "PA", "1"):
        # Palette entries are colours in the file's space too: expand, then convert.
        image = image.convert("RGBA" if has_alpha else "RGB")
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L", "LA"):
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
        base = {"RGBA": "RGB", "LA": "L"}.get(image.mode)
        converted = ImageCms.profileToProfile(
            image.convert(base) if base else image, source, _SRGB, outputMode="RGB"
        )
        if converted is None:
            return None
        if alpha is not None:
            converted.putalpha(alpha)
        return converted
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken or mismatched profile: fall back to the plain conversion


def _to_8bit_gray(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer or float grey as 8-bit grey, band by band: one byte per pixel
    next to the decoded picture (float64 arrays of the whole took 34 bytes a pixel)."""
    width, height = image.size
    rows = max(1, _BAND_PIXELS // max(1, width))
    bands = [(top, min(height, top + rows)) for top in range(0, height, rows)]

    def band(top: int, bottom: int) -> np.ndarray:
        return np.asarray(image.crop((0, top, width, bottom)), dtype=np.float64)

    if image.mode == "F":
        low, high = math.inf, -math.inf
        for top, bottom in bands:
            values = band(top, bottom)
            finite = values[np.isfinite(values)]
            if finite.size:
                low, high = min(low, float(finite.min())), max(high, float(finite.max()))
        if low > high:  # nothing finite
            low = high = 0.0

        def scale(values: np.ndarray) -> np.ndarray:
            return (values - low) / (high - low or 1.0) * 255.0
    else:
        top_value = max((float(band(*b).max()) for b in bands), default=0.0)

        def scale(values: np.ndarray) -> np.ndarray:
            return values / 257.0 if top_value > 255 else values

    gray = np.empty((height, width), dtype=np.uint8)
    for top, bottom in bands:
        gray[top:bottom] = np.clip(np.nan_to_num(scale(band(top, bottom))), 0, 255).astype(np.uint8)
    return Image.fromarray(gray, "L")


# Pixels of a high-bit-depth picture scaled to 8 bits at once (float64 arrays of a band).
_BAND_PIXELS = 1 << 20
