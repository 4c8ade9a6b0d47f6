"""Photoshop documents (PSD, and PSB for the large ones) through their composite image.

Photoshop stores the flattened picture next to the layers ("maximise compatibility", on
by default); psd-tools reads that. A document saved without it is composited from its
layers by psd-tools. Layers are never edited; the original is kept as uploaded. What the
decode costs is planned from the 26-byte header before anything is read.

psd-tools parses the document (layer records, resources, compressed channels) only in a
child process (`psd_child.py`, through `ingest.child_process`, like camera RAW and PDFs):
an address-space cap of what the header says the composite takes plus 1 GiB (also handed
to psd-tools' own allocation check), a CPU and a wall-clock limit, its process group
killed at the limit. A document that breaks one fails with the reason, its original kept.
The worker itself reads only the header and the XMP block of the image resources
(`read_xmp`: length-checked reads, nothing decoded), so the probe stage starts no child.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dam.errors import N_, ProcessingError
from ingest import child_process
from ingest.image.camera_raw import FULL_SIZE
from ingest.image.errors import too_many_pixels
from ingest.image.renditions import LARGEST_EDGE

log = logging.getLogger(__name__)

LABELS = frozenset({"PSD", "PSB"})
CHILD = Path(__file__).with_name("psd_child.py")
# psd-tools' start (Python, numpy, Pillow) and a document's resources fit in this; the
# composite gets what its header says it takes on top (`child_memory`).
CHILD_MEMORY_BYTES = 1024**3
CHILD_TIMEOUT_S = 120.0
_WORKING_COPIES = 2
_XMP_RESOURCE = 1060  # XMP metadata, as Photoshop keeps it
# The image resources (thumbnail, XMP, paths...) read for the XMP: at most this much.
MAX_RESOURCES_BYTES = 16 * 1024 * 1024
# What the child may answer as the composite's mode (psd_child._PLAIN_MODES).
_MODES = frozenset({"1", "L", "LA", "RGB", "RGBA", "CMYK", "I", "I;16", "F"})


@dataclass(frozen=True)
class PsdHeader:
    width: int
    height: int
    channels: int
    depth: int  # bits per channel: 1, 8, 16 or 32


def read_header(path: Path, *, label: str) -> PsdHeader:
    with path.open("rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[:4] != b"8BPS":
        raise ProcessingError(
            N_("The %(label)s file has no Photoshop header; it is damaged."),
            params={"label": label},
        )
    return PsdHeader(
        width=int.from_bytes(head[18:22], "big"),
        height=int.from_bytes(head[14:18], "big"),
        channels=int.from_bytes(head[12:14], "big"),
        depth=int.from_bytes(head[22:24], "big"),
    )


def read_xmp(path: Path) -> bytes | None:
    """The XMP packet (image resource 1060) of a document, read from its image resources
    section without psd-tools: bounded reads of length-prefixed blocks, nothing decoded.
    None when there is none or the section is malformed."""
    try:
        with path.open("rb") as fh:
            fh.seek(26)
            colour_data = int.from_bytes(fh.read(4), "big")
            fh.seek(colour_data, 1)
            length = int.from_bytes(fh.read(4), "big")
            section = fh.read(min(length, MAX_RESOURCES_BYTES))
    except OSError:
        return None
    at = 0
    while at + 12 <= len(section) and section[at : at + 4] == b"8BIM":
        resource = int.from_bytes(section[at + 4 : at + 6], "big")
        name = section[at + 6]
        at += 6 + name + 1 + (name + 1) % 2  # a Pascal string padded to an even length
        size = int.from_bytes(section[at : at + 4], "big")
        at += 4
        if at + size > len(section):
            return None
        if resource == _XMP_RESOURCE:
            return section[at : at + size]
        at += size + size % 2
    return None


def decode_need(header: PsdHeader, long_edge: int) -> int:
    """Bytes reading the composite and making renditions up to `long_edge` take."""
    pixels = header.width * header.height
    stored = pixels * max(1, header.channels) * max(1, header.depth) // 8
    output = min(pixels, long_edge * long_edge) * 4 * _WORKING_COPIES
    # psd-tools decodes channel by channel into numpy arrays (float for 16/32 bits).
    return stored * 2 + pixels * 4 * _WORKING_COPIES + output


@contextmanager
def open_layered(
    path: Path,
    *,
    label: str,
    max_pixels: int,
    long_edge: int = LARGEST_EDGE,
    header_only: bool = False,
) -> Iterator[Image.Image]:
    """The document's composite as a Pillow image with its XMP. With `header_only`, a
    1 x 1 stand-in with the XMP and the size (FULL_SIZE): nothing is decoded."""
    header = read_header(path, label=label)
    size = (header.width, header.height)
    if header.width <= 0 or header.height <= 0:
        raise ProcessingError(
            N_("The %(label)s file says its picture is empty; it is damaged."),
            params={"label": label},
        )
    if header.width * header.height > max_pixels:
        raise too_many_pixels(header.width * header.height, max_pixels, size)
    image: Image.Image
    if header_only:
        image = Image.new("RGB", (1, 1))
        image.info[FULL_SIZE] = size
    else:
        image = _composite(path, label, header, long_edge)
    xmp = read_xmp(path)  # a block of the resources right after the header
    if xmp is not None:
        image.info["xmp"] = xmp
    try:
        yield image
    finally:
        image.close()


def child_memory(header: PsdHeader, long_edge: int) -> int:
    """The child's address space: psd-tools' own start, plus what the header says the
    composite takes. A document whose layers or channels unpack to more is stopped."""
    return CHILD_MEMORY_BYTES + decode_need(header, long_edge)


def _composite(path: Path, label: str, header: PsdHeader, long_edge: int) -> Image.Image:
    with tempfile.TemporaryDirectory(prefix="beeldbank-psd-") as scratch:
        out = Path(scratch) / "pixels"
        memory = child_memory(header, long_edge)
        answer = _child(["composite", str(path), str(out), str(memory)], label=label, memory=memory)
        mode = str(answer.get("mode") or "")
        width, height = int(answer.get("width") or 0), int(answer.get("height") or 0)
        if mode not in _MODES or (width, height) != (header.width, header.height):
            raise _unreadable(label, N_("its composite does not match its header"))
        try:
            image = Image.frombytes(mode, (width, height), out.read_bytes())
        except ValueError:  # fewer bytes than the size needs
            raise _unreadable(label, N_("its composite came out incomplete")) from None
    return image


def _child(args: list[str], *, label: str, memory: int) -> dict[str, Any]:
    """psd-tools' answer from the child (psd_child.py), under caps like camera RAW."""
    try:
        answer = child_process.run_json(CHILD, args, memory=memory, timeout_s=CHILD_TIMEOUT_S)
    except child_process.ChildTimedOut:
        raise _unreadable(label, N_("reading it took too long")) from None
    except child_process.ChildFailed:  # a crash (signal) or the CPU cap
        raise _unreadable(label, N_("reading it stopped with an error")) from None
    error = answer.get("error")
    if error == "memory":
        log.info("a %s file needed more memory than its header allows", label)
        raise _unreadable(label, N_("it needs far more memory than its size allows"))
    if error == "psd-tools":
        raise ProcessingError(
            "Photoshop files need psd-tools, which is not installed on this server. "
            "The original is kept."
        )
    if error == "empty":
        raise ProcessingError(
            N_("The %(label)s file holds no picture to show. The original is kept."),
            params={"label": label},
        )
    if error:
        log.info("psd-tools could not read a %s file: %s", label, answer.get("detail"))
        raise ProcessingError(
            N_(
                "The %(label)s file could not be read: it is damaged, or from a Photoshop "
                "version psd-tools does not know. The original is kept."
            ),
            params={"label": label},
        )
    return answer


def _unreadable(label: str, detail: str) -> ProcessingError:
    """`detail` is a message id (N_), translated with the sentence."""
    return ProcessingError(
        N_(
            "The %(label)s file could not be read (%(detail)s): it may be damaged or made "
            "to harm the server. The original is kept."
        ),
        params={"label": label, "detail": detail},
    )
