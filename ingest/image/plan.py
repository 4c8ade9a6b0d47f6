"""Plan a photo's decode from its header: what memory it will take, before any pixel.

libjpeg scales while it decodes (1/2, 1/4, 1/8: Pillow's draft), so a 14,000-pixel photo
made into 2,560-pixel renditions costs a 3,500-pixel buffer. A progressive JPEG, though,
keeps every DCT coefficient of the whole picture whatever the scale (two bytes each:
588 MB for 196 megapixels at 4:2:0), and other formats decode at full size. The runner
holds a job back until its need fits the memory budget (dam.memory); a need above the
whole budget is refused with the reason.

A Huffman-coded JPEG spends at least one bit on each 8 × 8 block of each colour
component, so a file shorter than that is cut off. libjpeg fills in what is missing and
allocates the whole picture anyway: a 701-byte file claiming 14,000 × 14,000 pixels took
2 GB to "decode". Such a file is refused from its header.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import BinaryIO

# Start-of-frame markers (0xC4 DHT, 0xC8 JPG and 0xCC DAC share the range but are not).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
# Arithmetic coding (0xC9-0xCB) can spend less than a bit on a block; Huffman cannot.
_HUFFMAN = frozenset({0xC0, 0xC1, 0xC2, 0xC3})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_MAX_SEGMENTS = 10_000

# Pillow keeps 1 byte per pixel for L/P/1, 2 for I;16, 4 for everything else (RGB too).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_HIGH_BIT_DEPTH = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")
# Made 8-bit RGB(A) at full size before the resize (decode._eight_bit); high bit depths
# become grey, a band of float64 arrays at a time (decode._BAND_PIXELS).
_EXPANDED = ("P", "PA", "1")
_BAND_BYTES = (1 << 20) * 8 * 4
# Pillow resamples a picture with alpha premultiplied: a full-size copy first.
_ALPHA = ("RGBA", "LA", "PA", "La", "RGBa")
# Decoders that hand Pillow a full-size copy of their own picture, per pixel: libwebp's
# canvas and the frame's bytes (measured 15 bytes a pixel in all for 48 MP), libheif's.
_DECODER_COPY = {"WEBP": 9, "HEIF": 4, "AVIF": 4}
# Copies of the fitted picture: its conversion to sRGB (the alpha kept aside) and its
# turn upright.
_OUTPUT_COPIES = 3


@dataclass(frozen=True)
class JpegFrame:
    """What a JPEG's start-of-frame segment says."""

    marker: int
    width: int
    height: int
    sampling: tuple[tuple[int, int], ...]  # (horizontal, vertical) per colour component

    @property
    def progressive(self) -> bool:
        return self.marker in _PROGRESSIVE

    @property
    def huffman(self) -> bool:
        return self.marker in _HUFFMAN

    @property
    def blocks(self) -> int:
        """8 × 8 blocks over every component (chroma subsampling counted)."""
        if not self.sampling:
            return 0
        h_max = max(h for h, _ in self.sampling) or 1
        v_max = max(v for _, v in self.sampling) or 1
        return sum(
            math.ceil(math.ceil(self.width * h / h_max) / 8)
            * math.ceil(math.ceil(self.height * v / v_max) / 8)
            for h, v in self.sampling
        )

    @property
    def smallest_file(self) -> int:
        """Bytes a complete file needs at least (Huffman: a bit per block)."""
        return self.blocks // 8 if self.huffman else 0


def read_jpeg_frame(fh: BinaryIO) -> JpegFrame | None:
    """The frame header of the JPEG in `fh` (read from its start), None when there is none
    before the image data. Reads only segment headers, seeking over their contents."""
    fh.seek(0)
    if fh.read(2) != b"\xff\xd8":
        return None
    for _ in range(_MAX_SEGMENTS):
        byte = fh.read(1)
        if byte != b"\xff":
            return None
        marker = fh.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fh.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _STANDALONE:
            continue
        if code in (0xD9, 0xDA):  # end of image, start of scan: no frame before the data
            return None
        raw = fh.read(2)
        if len(raw) != 2:
            return None
        length = int.from_bytes(raw, "big")
        if length < 2:
            return None
        if code in _SOF:
            body = fh.read(length - 2)
            if len(body) < 6:
                return None
            height = int.from_bytes(body[1:3], "big")
            width = int.from_bytes(body[3:5], "big")
            count = body[5]
            sampling = tuple(
                (body[7 + 3 * i] >> 4, body[7 + 3 * i] & 0x0F)
                for i in range(count)
                if 7 + 3 * i < len(body)
            )
            return JpegFrame(code, width, height, sampling)
        fh.seek(length - 2, 1)
    return None


def draft_scale(width: int, height: int, long_edge: int) -> int:
    """The DCT scale (1, 2, 4 or 8) Pillow's draft picks when asked for `long_edge`."""
    longest = max(width, height)
    room = longest // max(1, long_edge)
    return next(s for s in (8, 4, 2, 1) if s <= max(1, room))


def decode_need(
    *, format: str | None, mode: str, width: int, height: int, long_edge: int,
    frame: JpegFrame | None = None, transparency: bool = False,
) -> int:  # fmt: skip
    """Bytes of memory decoding the image to at most `long_edge` pixels will take
    (`transparency`: a palette picture with a transparent colour, expanded to RGBA).

    Measured peaks against this estimate: a 48 MP RGB TIFF 70%, a WebP 93%, a padded
    progressive 196 MP JPEG 80%, a 16-bit grey TIFF 64%.
    """
    coefficients = 0
    if format in ("JPEG", "MPO"):
        scale = draft_scale(width, height, long_edge)
        # libjpeg keeps the whole coefficient array of a progressive file (2 bytes each).
        if frame is not None and frame.progressive:
            coefficients = frame.blocks * 64 * 2
        width, height = math.ceil(width / scale), math.ceil(height / scale)
        mode = "L" if mode == "L" else "RGB"
    pixels = width * height
    decoded = pixels * (_BYTES_PER_PIXEL.get(mode, 4) + _DECODER_COPY.get(format or "", 0))
    resized_bytes = 4  # per pixel of what is resized
    expanded = 0
    if mode in _EXPANDED:
        expanded = pixels * 4
    elif mode in _HIGH_BIT_DEPTH:
        expanded = pixels + _BAND_BYTES
        resized_bytes = 1
    elif mode == "L":
        resized_bytes = 1
    ratio = min(1.0, long_edge / max(1, width, height))
    resizing = 0
    if ratio < 1:
        if mode in _ALPHA or (mode == "P" and transparency):
            resizing += pixels * 4
        # A box reduce (to at most a quarter) and Lanczos' first pass (the new width by
        # the old height): at most twice the ratio of the picture.
        resizing += math.ceil(pixels * resized_bytes * min(1.0, 2 * ratio))
    output = min(pixels, long_edge * long_edge) * 4 * _OUTPUT_COPIES
    return decoded + coefficients + expanded + resizing + output
