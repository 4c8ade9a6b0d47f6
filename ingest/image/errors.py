"""Turn decoder exceptions into messages a person understands.

Decoders speak in their own terms ("decoder error -2", "cannot identify image file
'/data/originals/ab/cd/...'"). Those texts name server paths and library internals, so
they never reach a person verbatim: each known kind of failure gets its own sentence, and a
decoder's detail is only quoted when it is plain words.
"""

from __future__ import annotations

import logging
import mmap
import re
from pathlib import Path
from typing import Literal

from PIL import Image, UnidentifiedImageError

from dam.errors import N_, ProcessingError
from dam.numbers import Number
from dam.sizes import Size

log = logging.getLogger(__name__)

_TRUNCATED_WORDS = ("truncated", "premature end", "unexpected end of file", "ends early")
_TEXT_BOMB_WORDS = ("decompressed data too large", "too much memory used in text chunks")
_CODEC_WORDS = ("decoder error", "decoding error", "could not create decoder")
# A hostile file can hold millions of tiny chunks or boxes; walking them is bounded.
_MAX_STEPS = 1_000_000
# Plain words only: no paths, no identifiers with underscores or dots, no reprs.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ,:;()%'-]*")


def megapixels(pixels: int) -> Number:
    """12_345_678 -> 12, 1_500_000 -> 1.5: as precise as a limit needs to be read."""
    value = pixels / 1e6
    return Number(round(value) if value >= 10 else round(value, 1))


def too_many_pixels(
    pixels: int, max_pixels: int, size: tuple[int, int] | None = None
) -> ProcessingError:
    """The decompression-bomb refusal, with the dimensions when they are known."""
    params = {"mp": megapixels(pixels), "max": megapixels(max_pixels)}
    if size is None:
        return ProcessingError(
            N_(
                "The image is %(mp)s megapixels, more than the limit of %(max)s megapixels. "
                "Reduce its size and upload it again."
            ),
            params=params,
        )
    return ProcessingError(
        N_(
            "The image is %(width)s × %(height)s pixels (%(mp)s megapixels), more than the "
            "limit of %(max)s megapixels. Reduce its size and upload it again."
        ),
        params={**params, "width": Number(size[0]), "height": Number(size[1])},
    )


def explain(
    exc: BaseException, *, label: str, path: Path, max_pixels: int | None = None
) -> ProcessingError:
    """What went wrong with this file, in words, with the size where it matters."""
    text = " ".join(str(exc).split())
    lowered = text.lower()
    # Operators get the decoder's own words in the log; the person gets the sentence below.
    log.info("decoding a %s file failed: %s: %s", label, type(exc).__name__, text[:300])
    if isinstance(exc, Image.DecompressionBombError):
        match = re.search(r"\((\d+) pixels\)", text)
        pixels = int(match[1]) if match else 0
        return too_many_pixels(pixels, max_pixels or Image.MAX_IMAGE_PIXELS or 0)
    if isinstance(exc, MemoryError) or "out of memory" in lowered or "decoder error -9" in lowered:
        return ProcessingError(
            N_("The %(label)s image needs more memory to decode than this server allows."),
            params={"label": label},
        )
    if any(word in lowered for word in _TEXT_BOMB_WORDS):
        return ProcessingError(
            N_(
                "The %(label)s file holds a compressed text block that unpacks to an "
                "unreasonable size, a known way to overload servers, so it was not processed."
            ),
            params={"label": label},
        )
    if any(word in lowered for word in _TRUNCATED_WORDS) or looks_truncated(path):
        return ProcessingError(
            N_(
                "The file is cut off after %(size)s: the %(label)s data ends early. "
                "Upload the complete file again."
            ),
            params={"size": Size(_size(path)), "label": label},
        )
    if isinstance(exc, UnidentifiedImageError):
        return ProcessingError(
            N_(
                "The file starts as %(label)s image data, but its contents cannot be read: it "
                "is damaged or uses a kind of %(label)s that is not supported."
            ),
            params={"label": label},
        )
    if any(word in lowered for word in _CODEC_WORDS):
        return ProcessingError(
            N_(
                "The %(label)s image data is damaged or compressed in a way this server "
                "cannot decode."
            ),
            params={"label": label},
        )
    detail = _detail(text, path)
    if detail:
        return ProcessingError(
            N_("The %(label)s image data is damaged and cannot be decoded (%(detail)s)."),
            params={"label": label, "detail": detail},
        )
    return ProcessingError(
        N_("The %(label)s image data is damaged and cannot be decoded."), params={"label": label}
    )


def _detail(text: str, path: Path) -> str:
    """The decoder's reason when it is plain words, else nothing."""
    text = text.removesuffix(" when reading image file").strip().rstrip(".")
    if path.name in text or str(path) in text:
        return ""
    if " " not in text or len(text) > 120 or not _PLAIN.fullmatch(text):
        return ""
    if text[1:2].islower():  # "Unable to seek" reads on mid-sentence; "APNG ..." stays
        text = text[0].lower() + text[1:]
    return text


def looks_truncated(path: Path) -> bool:
    """Whether the file's own structure says it ends early (checked only after a failure).

    Decoders often report a cut-off file as something vaguer ("could not create decoder
    object", "cannot identify image file"); the container's length fields tell the truth.
    """
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _ends_early(data)
    except (OSError, ValueError):
        return False  # an empty or unreadable file: nothing to measure


def _ends_early(data: mmap.mmap) -> bool:
    size = len(data)
    head = data[:12]
    if head.startswith(b"\xff\xd8"):
        # Every scan (progressive files have several) starts with SOS; the file is whole when
        # an EOI follows the last one. Byte stuffing keeps both markers out of scan data, and
        # an EXIF thumbnail's own SOS/EOI pair comes before the main image's scans.
        return data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda")
    if head.startswith(b"\x89PNG"):
        return _chunks_run_past_end(data, size)
    if head.startswith(b"RIFF"):
        return int.from_bytes(head[4:8], "little") + 8 > size
    if head[4:8] == b"ftyp":
        return _box_runs_past_end(data, size)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _ifd_past_end(data, size, "little" if head[:2] == b"II" else "big")
    return False


def _ifd_past_end(data: mmap.mmap, size: int, order: Literal["little", "big"]) -> bool:
    """TIFF: the first directory (many writers put it last) must lie inside the file."""
    offset = int.from_bytes(data[4:8], order)
    if offset + 2 > size:
        return True
    entries = int.from_bytes(data[offset : offset + 2], order)
    return offset + 2 + 12 * entries + 4 > size


def _chunks_run_past_end(data: mmap.mmap, size: int) -> bool:
    """PNG: walk the chunks; the file is cut when one ends past EOF or IEND never comes."""
    position = 8
    for _ in range(_MAX_STEPS):
        if position + 8 > size:
            return True
        kind = data[position + 4 : position + 8]
        if not kind.isalpha():
            return False  # garbage where a chunk should start: damage, not truncation
        if kind == b"IEND":
            return False
        position += 12 + int.from_bytes(data[position : position + 4], "big")
    return False  # a million chunks: too odd to call it anything but damage


def _box_runs_past_end(data: mmap.mmap, size: int) -> bool:
    """ISO media (HEIC, AVIF): walk the top-level boxes; one that ends past EOF is cut."""
    position = 0
    for _ in range(_MAX_STEPS):
        if position + 8 > size:
            return position > size
        length = int.from_bytes(data[position : position + 4], "big")
        header = 8
        if length == 1:
            if position + 16 > size:
                return True
            length, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif length == 0:
            return False  # "to the end of the file"
        if length < header:
            return False  # nonsense, not truncation
        position += length
    return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
