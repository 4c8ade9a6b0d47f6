"""Camera RAW test files written here: DNGs (a Bayer mosaic of a known scene, 12 bits in
16, with the tags LibRaw needs to develop it), with or without a full-size JPEG preview,
and a multi-page TIFF whose first page is a thumbnail.

The scene: a grey ramp from left to right with a red block top left and a blue block bottom
right, so a test can tell orientation and colour from the renditions. A preview carries
a white square in its centre that the mosaic does not have: a rendition with that square
was made from the preview, one without it was developed.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

# TIFF field types
BYTE, ASCII, SHORT, LONG, RATIONAL, SRATIONAL = 1, 2, 3, 4, 5, 10
WHITE_LEVEL = 4095
AS_SHOT_NEUTRAL = (0.5, 1.0, 0.8)  # the camera's white balance: what grey looked like


def scene(width: int, height: int) -> np.ndarray:
    """The test scene as linear RGB floats 0..1 (height x width x 3)."""
    ramp = np.linspace(0.05, 0.9, width, dtype=np.float32)[None, :, None] * np.ones(
        (height, 1, 3), np.float32
    )
    ramp[: height // 3, : width // 3] = (0.8, 0.05, 0.05)
    ramp[-height // 3 :, -width // 3 :] = (0.05, 0.05, 0.8)
    return ramp


def mosaic(rgb: np.ndarray) -> np.ndarray:
    """RGGB Bayer samples of a linear RGB picture, 12-bit values in uint16."""
    height, width = rgb.shape[:2]
    out = np.empty((height, width), np.float32)
    out[0::2, 0::2] = rgb[0::2, 0::2, 0]
    out[0::2, 1::2] = rgb[0::2, 1::2, 1]
    out[1::2, 0::2] = rgb[1::2, 0::2, 1]
    out[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return np.clip(out * WHITE_LEVEL, 0, WHITE_LEVEL).astype("<u2")


def preview_jpeg(width: int, height: int) -> bytes:
    rgb = scene(width, height) ** (1 / 2.2)
    s = min(width, height) // 8
    rgb[height // 2 - s : height // 2 + s, width // 2 - s : width // 2 + s] = 1.0
    buffer = io.BytesIO()
    Image.fromarray((rgb * 255).astype(np.uint8), "RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class _Tiff:
    """A little-endian TIFF writer: IFDs of (tag, type, values) with their data blobs."""

    def __init__(self) -> None:
        self.data = bytearray(b"II*\x00\x00\x00\x00\x00")

    def blob(self, raw: bytes) -> int:
        if len(self.data) % 2:
            self.data += b"\x00"
        at = len(self.data)
        self.data += raw
        return at

    def ifd(self, entries: list[tuple[int, int, object]]) -> int:
        packed = []
        for tag, kind, value in sorted(entries, key=lambda e: e[0]):
            raw, count = _pack(kind, value)
            packed.append((tag, kind, count, raw))
        size = 2 + 12 * len(packed) + 4
        at = self.blob(b"\x00" * size)
        body = struct.pack("<H", len(packed))
        for tag, kind, count, raw in packed:
            # Up to four bytes fit in the entry; longer values go elsewhere, by offset.
            field = raw.ljust(4, b"\x00") if len(raw) <= 4 else struct.pack("<I", self.blob(raw))
            body += struct.pack("<HHI", tag, kind, count) + field
        self.data[at : at + size] = body + b"\x00\x00\x00\x00"
        return at

    def first(self, ifd: int) -> None:
        self.data[4:8] = struct.pack("<I", ifd)


def _pack(kind: int, value: object) -> tuple[bytes, int]:
    if kind == ASCII:
        raw = str(value).encode() + b"\x00"
        return raw, len(raw)
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if kind == BYTE:
        return bytes(values), len(values)
    if kind == SHORT:
        return struct.pack(f"<{len(values)}H", *values), len(values)
    if kind == LONG:
        return struct.pack(f"<{len(values)}I", *values), len(values)
    fmt = "<ii" if kind == SRATIONAL else "<II"
    raw = b"".join(struct.pack(fmt, round(v * 10000), 10000) for v in values)  # type: ignore[call-overload]
    return raw, len(values)


# XYZ (D65) to camera: the camera here sees linear sRGB, so this is XYZ -> linear sRGB.
_XYZ_TO_SRGB = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)


def make_dng(
    path: Path,
    *,
    width: int = 640,
    height: int = 480,
    preview: bool,
    orientation: int = 1,
    claim: tuple[int, int] | None = None,
) -> Path:
    """A DNG of the test scene; `preview`: IFD 0 is a full-size JPEG preview and the
    mosaic is in a SubIFD, as cameras and converters write it. `claim`: the size the
    mosaic's tags state (a header that promises far more than the file holds)."""
    tiff = _Tiff()
    exif_ifd = tiff.ifd(
        [(36867, ASCII, "2009:06:15 10:30:00"), (37386, RATIONAL, 35.0)]  # taken; focal length
    )
    # Lit by a warm lamp: the sensor sees a neutral grey as AS_SHOT_NEUTRAL.
    cfa = mosaic(scene(width, height) * np.array(AS_SHOT_NEUTRAL)).tobytes()
    strip = tiff.blob(cfa)
    raw_tags: list[tuple[int, int, object]] = [
        (254, LONG, 0),
        (256, LONG, (claim or (width, height))[0]),
        (257, LONG, (claim or (width, height))[1]),
        (258, SHORT, 16),
        (259, SHORT, 1),
        (262, SHORT, 32803),  # CFA
        (273, LONG, strip),
        (277, SHORT, 1),
        (278, LONG, height),
        (279, LONG, len(cfa)),
        (284, SHORT, 1),
        (33421, SHORT, (2, 2)),  # CFARepeatPatternDim
        (33422, BYTE, (0, 1, 1, 2)),  # CFAPattern: RGGB
        (50717, LONG, WHITE_LEVEL),
    ]
    camera: list[tuple[int, int, object]] = [
        (271, ASCII, "Beeldbank"),
        (272, ASCII, "Test Camera"),
        (274, SHORT, orientation),
        (306, ASCII, "2009:06:15 10:30:00"),
        (315, ASCII, "Ann Archive"),
        (33432, ASCII, "Stad Gent"),
        (50706, BYTE, (1, 4, 0, 0)),  # DNGVersion
        (50708, ASCII, "Beeldbank Test Camera"),
        (50721, SRATIONAL, _XYZ_TO_SRGB),  # ColorMatrix1
        (50728, RATIONAL, AS_SHOT_NEUTRAL),
        (50778, SHORT, 21),  # CalibrationIlluminant1: D65
        (34665, LONG, exif_ifd),  # the EXIF IFD
    ]
    if preview:
        sub = tiff.ifd(raw_tags)
        jpeg = preview_jpeg(width, height)
        at = tiff.blob(jpeg)
        main = tiff.ifd(
            [
                (254, LONG, 1),  # a reduced-resolution (preview) image
                (256, LONG, width),
                (257, LONG, height),
                (258, SHORT, (8, 8, 8)),
                (259, SHORT, 7),  # JPEG
                (262, SHORT, 6),  # YCbCr
                (273, LONG, at),
                (277, SHORT, 3),
                (278, LONG, height),
                (279, LONG, len(jpeg)),
                (330, LONG, sub),  # SubIFDs
                *camera,
            ]
        )
    else:
        main = tiff.ifd([*raw_tags, *camera])
    tiff.first(main)
    path.write_bytes(bytes(tiff.data))
    return path


def psd_bomb(path: Path, side: int) -> Path:
    """A 64 x 48 Photoshop document saved without its composite, whose one layer claims
    `side` x `side` pixels of ZIP-compressed zeros: a few hundred kB that unpack to
    gigabytes when psd-tools composites the layers."""
    import zlib

    from psd_tools import PSDImage
    from psd_tools.constants import Compression, Resource

    psd = PSDImage.new("RGB", (64, 48))
    psd.create_pixel_layer(Image.new("RGB", (64, 48), (200, 0, 0)), name="bom")
    record = psd._record
    record.image_resources[Resource.VERSION_INFO].data.has_composite = False
    layers = record.layer_and_mask_information.layer_info
    layer = layers.layer_records[0]
    layer.bottom, layer.right = side, side
    packer = zlib.compressobj(9)
    row = bytes(side)
    zeros = b"".join([packer.compress(row) for _ in range(side)] + [packer.flush()])
    for channel in layers.channel_image_data[0]:
        channel.compression, channel.data = Compression.ZIP, zeros
    with path.open("wb") as fh:
        record.write(fh)  # as it is: PSDImage.save would composite it first
    return path
