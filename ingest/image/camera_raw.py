"""Camera RAW (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2) through LibRaw (rawpy).

A RAW file holds the sensor's mosaic and, from nearly every camera, a full-size JPEG
preview the camera developed itself. The renditions come from that preview when it is
large enough (fast: a JPEG decode, scaled while decoding); otherwise LibRaw develops the
mosaic with the camera's white balance into sRGB, at half size when that still covers the
largest rendition. The EXIF is read from the RAW's own TIFF structure where it has one,
else from the preview. The original is never changed.

What a development costs is planned from the header (`decode_need`) before any decode:
LibRaw keeps the mosaic (2 bytes a photosite) and a 4 x 16-bit image, then the 8-bit
output and our working copies.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dam.errors import ProcessingError
from ingest.image.plan import JpegFrame, read_jpeg_frame
from ingest.image.plan import decode_need as jpeg_decode_need

# Sniffed labels (ingest.sniff) of RAW containers; TIFF-structured RAWs that the sniffer
# cannot tell from a TIFF (NEF, ARW, PEF ...) are recognised by `tiff_is_camera_raw`.
LABELS = frozenset({"DNG", "CR2", "CR3", "NEF", "ARW", "RAF", "ORF", "RW2"})

# Where a developed picture keeps the photo's upright size when it was developed smaller.
FULL_SIZE = "camera_raw_full_size"
# TIFF tags that only camera RAW files carry.
_DNG_VERSION = 50706
_SUB_IFDS = 330
_MAKE = 271
_ORIENTATION = 0x0112
# How much of a file the EXIF reader looks at: IFD 0 and the EXIF IFD sit near the start.
_EXIF_WINDOW = 4 * 1024**2
# LibRaw's flip (sizes.flip) as the EXIF orientation that shows the picture upright.
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
# LibRaw: a ushort[4] image per pixel, plus the raw mosaic, plus the 8-bit RGB output.
_LIBRAW_BYTES_PER_PIXEL = 8
_WORKING_COPIES = 2


@dataclass(frozen=True)
class RawFacts:
    width: int  # developed, before orientation
    height: int
    raw_pixels: int  # photosites in the mosaic (with the margins)
    orientation: int  # EXIF orientation of the sensor picture
    preview: JpegFrame | None  # the embedded JPEG, when LibRaw has one


def is_camera_raw(path: Path, label: str) -> bool:
    return label in LABELS or (label == "TIFF" and tiff_is_camera_raw(path))


def tiff_is_camera_raw(path: Path) -> bool:
    """A TIFF-structured file from a camera: DNG's version tag, or a camera make with
    sub-IFDs (where NEF, ARW and PEF keep the mosaic behind a small first image)."""
    exif = _tiff_exif(path)
    if exif is None:
        return False
    tags = set(exif.keys())
    return _DNG_VERSION in tags or (_MAKE in tags and _SUB_IFDS in tags)


def read_facts(path: Path, *, label: str) -> RawFacts:
    """Sizes and the preview from the header, without developing anything."""
    rawpy = _rawpy()
    try:
        with rawpy.imread(str(path)) as raw:
            sizes = raw.sizes
            preview = _preview_frame(raw)
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise ProcessingError(_unreadable(label, exc)) from None
    width, height = int(sizes.width), int(sizes.height)
    if width <= 0 or height <= 0:
        raise ProcessingError(f"The {label} file describes no picture; it is damaged.")
    return RawFacts(
        width=width,
        height=height,
        raw_pixels=int(sizes.raw_width) * int(sizes.raw_height),
        orientation=_FLIP_TO_ORIENTATION.get(int(sizes.flip), 1),
        preview=preview,
    )


def use_preview(facts: RawFacts, long_edge: int) -> bool:
    """Whether the embedded preview is large enough for renditions up to `long_edge`: as
    large as the picture (a full-size preview), or at least the largest rendition."""
    if facts.preview is None:
        return False
    longest = max(facts.preview.width, facts.preview.height)
    return longest >= min(long_edge, 0.9 * max(facts.width, facts.height))


def half_size(facts: RawFacts, long_edge: int) -> bool:
    """Develop at half size (one pixel per 2 x 2 photosites) when that still covers it."""
    return max(facts.width, facts.height) // 2 >= long_edge


def decode_need(facts: RawFacts, long_edge: int) -> int:
    """Bytes decoding the RAW for renditions up to `long_edge` will take, at most."""
    if use_preview(facts, long_edge) and facts.preview is not None:
        frame = facts.preview
        # The preview is read into memory, then decoded as any JPEG.
        return facts.raw_pixels // 4 + jpeg_decode_need(
            format="JPEG",
            mode="RGB",
            width=frame.width,
            height=frame.height,
            long_edge=long_edge,
            frame=frame,
        )
    scale = 2 if half_size(facts, long_edge) else 1
    pixels = math.ceil(facts.width / scale) * math.ceil(facts.height / scale)
    output = min(pixels, long_edge * long_edge) * 4 * _WORKING_COPIES
    return (
        facts.raw_pixels * 2  # the unpacked mosaic
        + pixels * _LIBRAW_BYTES_PER_PIXEL
        + pixels * 3  # LibRaw's 8-bit RGB output
        + pixels * 4 * _WORKING_COPIES
        + output
    )


@contextmanager
def open_camera_raw(
    path: Path, *, label: str, max_pixels: int, long_edge: int, header_only: bool = False
) -> Iterator[Image.Image]:
    """The picture of a RAW file as a Pillow image carrying the RAW's EXIF: its embedded
    preview (opened lazily, as a JPEG) or LibRaw's development (upright already). With
    `header_only`, a development is not made: a 1 x 1 stand-in carries the EXIF and the
    photo's size (for the probe, which must not decode before the memory plan)."""
    facts = read_facts(path, label=label)
    if facts.width * facts.height > max_pixels:
        from ingest.image.errors import too_many_pixels

        raise ProcessingError(
            too_many_pixels(facts.width * facts.height, max_pixels, (facts.width, facts.height))
        )
    exif = _tiff_exif(path)
    image: Image.Image
    if use_preview(facts, long_edge):
        image = Image.open(io.BytesIO(_preview_bytes(path, label)), formats=["JPEG"])
        # The preview is stored as the sensor sees it: the RAW's orientation turns it.
        _carry_exif(image, exif, orientation=facts.orientation)
    else:
        image = Image.new("RGB", (1, 1)) if header_only else _develop(path, label, facts, long_edge)
        _carry_exif(image, exif, orientation=1)  # LibRaw turns the pixels itself
        turned = facts.orientation in (5, 6, 7, 8)
        image.info[FULL_SIZE] = (
            (facts.height, facts.width) if turned else (facts.width, facts.height)
        )
    try:
        yield image
    finally:
        image.close()


def _develop(path: Path, label: str, facts: RawFacts, long_edge: int) -> Image.Image:
    rawpy = _rawpy()
    try:
        with rawpy.imread(str(path)) as raw:
            rgb = raw.postprocess(
                use_camera_wb=True,
                output_color=rawpy.ColorSpace.sRGB,
                output_bps=8,
                half_size=half_size(facts, long_edge),
                no_auto_bright=False,
            )
    except (rawpy.LibRawError, OSError, ValueError, MemoryError) as exc:
        raise ProcessingError(_unreadable(label, exc)) from None
    return Image.fromarray(rgb, "RGB")


def _preview_frame(raw: object) -> JpegFrame | None:
    rawpy = _rawpy()
    try:
        thumb = raw.extract_thumb()  # type: ignore[attr-defined]
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError:
        return None
    if thumb.format != rawpy.ThumbFormat.JPEG:
        return None  # a bitmap thumbnail is small; develop instead
    return read_jpeg_frame(io.BytesIO(thumb.data))


def _preview_bytes(path: Path, label: str) -> bytes:
    rawpy = _rawpy()
    try:
        with rawpy.imread(str(path)) as raw:
            return bytes(raw.extract_thumb().data)
    except (rawpy.LibRawError, OSError) as exc:
        raise ProcessingError(_unreadable(label, exc)) from None


def _carry_exif(image: Image.Image, exif: Image.Exif | None, *, orientation: int) -> None:
    """Give the decoded picture the RAW's EXIF, with the orientation its pixels need."""
    carried = Image.Exif()
    if exif is not None:
        for tag, value in exif.items():
            carried[tag] = value
        for ifd in (0x8769, 0x8825):  # the EXIF and GPS sub-IFDs
            try:
                sub = exif.get_ifd(ifd)
            except Exception:
                sub = {}
            if sub:
                carried[ifd] = dict(sub)
    else:
        try:
            carried = image.getexif()  # the preview's own EXIF (RAF, CR3)
        except Exception:
            carried = Image.Exif()
    carried.pop(_SUB_IFDS, None)
    carried[_ORIENTATION] = orientation
    image.info["exif"] = carried.tobytes()
    image._exif = None  # re-read from info on getexif()


def _tiff_exif(path: Path) -> Image.Exif | None:
    """IFD 0 of a TIFF-structured RAW (ORF and RW2 too: only their magic differs)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_EXIF_WINDOW)
    except OSError:
        return None
    if head[:4] in (b"IIRO", b"IIRS", b"IIU\x00"):
        head = b"II*\x00" + head[4:]
    elif head[:4] == b"MMOR":
        head = b"MM\x00*" + head[4:]
    if head[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    exif = Image.Exif()
    try:
        exif.load(head)
    except Exception:
        return None
    return exif if len(exif) else None


def _unreadable(label: str, exc: BaseException) -> str:
    detail = str(exc).strip("b'\" ")[:120]
    return (
        f"The {label} camera RAW file could not be read ({detail or type(exc).__name__}): "
        "it is damaged, or from a camera LibRaw does not know yet. The original is kept."
    )


def _rawpy() -> Any:
    try:
        import rawpy
    except ImportError:
        raise ProcessingError(
            "Camera RAW files need rawpy, which is not installed on this server; an "
            "administrator can install it (pip install rawpy). The original is kept."
        ) from None
    return rawpy
