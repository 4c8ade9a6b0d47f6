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

LibRaw parses maker structures of a hostile file in C, so it runs in a child process
(`raw_child.py`) with a memory cap (the planned need plus 1 GiB), a CPU cap and a
timeout, at a lower priority, dying with the worker (`ingest.child_process`), like the
video probe: a crash or a hang there costs that child, never the worker.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dam.errors import N_, ProcessingError
from ingest import child_process
from ingest.image.errors import too_many_pixels
from ingest.image.plan import JpegFrame, read_jpeg_frame
from ingest.image.plan import decode_need as jpeg_decode_need

CHILD = Path(__file__).with_name("raw_child.py")
# LibRaw's parse and a preview's copy fit in this; a development gets its planned need on top.
CHILD_MEMORY_BYTES = 1024**3
CHILD_TIMEOUT_S = 120.0

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
    """Sizes and the preview from the header, without developing anything (in the child)."""
    facts = _child(["facts", str(path)], label=label, memory=CHILD_MEMORY_BYTES)
    width, height = int(facts.get("width") or 0), int(facts.get("height") or 0)
    if width <= 0 or height <= 0:
        raise ProcessingError(
            N_("The %(label)s file describes no picture; it is damaged."), params={"label": label}
        )
    preview = None
    head = (facts.get("preview") or {}).get("head")
    if isinstance(head, str):
        preview = read_jpeg_frame(io.BytesIO(base64.b64decode(head)))
    return RawFacts(
        width=width,
        height=height,
        raw_pixels=int(facts.get("raw_width") or 0) * int(facts.get("raw_height") or 0),
        orientation=_FLIP_TO_ORIENTATION.get(int(facts.get("flip") or 0), 1),
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
        raise too_many_pixels(facts.width * facts.height, max_pixels, (facts.width, facts.height))
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
    half = half_size(facts, long_edge)
    with tempfile.TemporaryDirectory(prefix="beeldbank-raw-") as scratch:
        out = Path(scratch) / "rgb"
        memory = decode_need(facts, long_edge) + CHILD_MEMORY_BYTES
        size = _child(
            ["develop", str(path), str(out), "1" if half else "0"], label=label, memory=memory
        )
        width, height = int(size.get("width") or 0), int(size.get("height") or 0)
        data = out.read_bytes()
    if width <= 0 or height <= 0 or len(data) != width * height * 3:
        raise _unreadable(label, N_("the development came out incomplete"))
    return Image.frombytes("RGB", (width, height), data)


def _preview_bytes(path: Path, label: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="beeldbank-raw-") as scratch:
        out = Path(scratch) / "preview.jpg"
        _child(["preview", str(path), str(out)], label=label, memory=CHILD_MEMORY_BYTES)
        return out.read_bytes()


def _child(args: list[str], *, label: str, memory: int) -> dict[str, Any]:
    """LibRaw's answer from the child (raw_child.py), run under caps like the video probe."""
    if importlib.util.find_spec("rawpy") is None:
        raise ProcessingError(
            "Camera RAW files need rawpy, which is not installed on this server; an "
            "administrator can install it (pip install rawpy). The original is kept."
        )
    try:
        answer = child_process.run_json(
            CHILD, args, memory=memory, timeout_s=CHILD_TIMEOUT_S, niceness=10
        )
    except child_process.ChildTimedOut:
        raise _unreadable(label, N_("reading it took too long")) from None
    except child_process.ChildFailed:
        # A crash (signal), the memory cap, or no rawpy: the file cannot be trusted.
        raise _unreadable(label, N_("reading it stopped with an error")) from None
    if answer.get("error"):
        raise _unreadable(label, str(answer.get("detail") or answer["error"]))
    return answer


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


def _unreadable(label: str, detail: str) -> ProcessingError:
    """`detail` is LibRaw's own words, or a message id (N_) that is translated with it."""
    return ProcessingError(
        N_(
            "The %(label)s camera RAW file could not be read (%(detail)s): it is damaged, or "
            "from a camera LibRaw does not know yet. The original is kept."
        ),
        params={"label": label, "detail": detail.strip("b'\" ")[:120]},
    )
