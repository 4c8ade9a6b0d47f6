"""A preview of a signed consent form that is a PDF: its first page as a JPEG, so the
privacy officer sees which form it is without opening the file.

Rendered once, in the upload's request, just after the form is stored (outside any
transaction: `ingest.evidence`), with PDFium (the `pypdfium2` wheel) in a disposable
child process (`pdf_child.py` through `ingest.child_process`): a crafted PDF can make
PDFium crash, loop or allocate without end, and that must cost the child, never the
server. The child gets RENDER_MEMORY_BYTES of address space and RENDER_TIMEOUT_S of wall
and CPU time, opens only the first page, refuses a page larger than PDF allows
(MAX_PAGE_POINTS) before drawing anything, and draws at most PREVIEW_SIDE pixels on the
long side whatever the page size claims. It runs at the server's own priority (someone
is waiting for it; the caps, not the priority, bound it), at most RENDERS_AT_ONCE at a
time in one process.

The preview is a `preview` rendition of the evidence asset: restricted like the form
itself, served only through the gate. A PDF that cannot be previewed (damaged, too
large, too slow, a crash) is kept all the same, like any evidence: the consent is
recorded and only the preview is missing; `render_preview` says why, in a message the
upload shows (the UI's flash, the API's `preview_problem`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from sqlmodel import Session

from dam.blobs import BlobStore, write_atomic
from dam.errors import ProcessingError
from dam.models import Asset, Rendition
from dam.numbers import Number
from ingest import child_process

log = logging.getLogger(__name__)

PREVIEW = "preview"
PREVIEW_SIDE = 1200
CHILD = Path(__file__).with_name("pdf_child.py")
# ISO 32000-1 annex C: a page is at most 14,400 units (200 inches, 5.08 m) a side.
MAX_PAGE_POINTS = 14_400
# PDFium and Pillow take about 50 MB for a typed form and a 600 dpi colour scan in JPEG;
# a lossless (Flate) 600 dpi colour scan, 100 MB of samples, needs about 200 MB.
RENDER_MEMORY_BYTES = 512 * 1024**2
# A typed or scanned form draws in well under a second (0.4 s for an A4 scan at 600 dpi).
RENDER_TIMEOUT_S = 5.0
RENDERS_AT_ONCE = 2
# A 1200 px JPEG at quality 85 is a few hundred kB; anything far larger is not ours.
MAX_JPEG_BYTES = 8 * 1024**2
_CM_PER_POINT = 2.54 / 72

_renders = threading.BoundedSemaphore(RENDERS_AT_ONCE)


@dataclass(frozen=True)
class RenderedPage:
    jpeg: bytes
    width: int
    height: int


def render_preview(path: Path, *, side: int = PREVIEW_SIDE) -> RenderedPage:
    """The first page of the PDF at `path` as a JPEG of at most `side` pixels a side;
    ProcessingError, saying why for a person, when there is none."""
    if not _renders.acquire(timeout=RENDER_TIMEOUT_S):
        raise ProcessingError(
            "No preview could be made: the server was busy drawing other forms. The "
            "signed form itself is stored."
        )
    try:
        return _render(path, side)
    finally:
        _renders.release()


def _render(path: Path, side: int) -> RenderedPage:
    try:
        with tempfile.TemporaryDirectory(prefix="beeldbank-pdf-") as scratch:
            out = Path(scratch) / "page.jpg"
            answer = child_process.run_json(
                CHILD,
                [str(path.resolve()), str(out), str(side), str(MAX_PAGE_POINTS)],
                memory=RENDER_MEMORY_BYTES,
                timeout_s=RENDER_TIMEOUT_S,
                niceness=0,
            )
            error = answer.get("error")
            if error == "too_large":
                raise ProcessingError(
                    "No preview could be made: the first page is %(width)s × %(height)s cm, "
                    "larger than a PDF page can be (%(limit)s cm a side). The signed form "
                    "itself is stored.",
                    params={
                        "width": _cm(answer.get("width_pt")),
                        "height": _cm(answer.get("height_pt")),
                        "limit": _cm(MAX_PAGE_POINTS),
                    },
                )
            if error:
                raise ProcessingError(
                    "No preview could be made: the PDF is damaged, protected with a "
                    "password, or has no pages. The signed form itself is stored."
                )
            return _checked(out, side)
    except child_process.ChildTimedOut:
        raise ProcessingError(
            "No preview could be made: drawing the first page took longer than "
            "%(seconds)s seconds, so it was stopped. The signed form itself is stored.",
            params={"seconds": format(RENDER_TIMEOUT_S, "g")},
        ) from None
    except child_process.ChildFailed:
        # A crash (a signal), the memory or CPU cap: the file cannot be trusted.
        raise _stopped() from None


def _checked(out: Path, side: int) -> RenderedPage:
    """The child's JPEG, trusted no further than its header: a JPEG within the bounds."""
    try:
        if out.stat().st_size > MAX_JPEG_BYTES:
            raise _stopped()
        data = out.read_bytes()
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        raise _stopped() from None
    if not (0 < width <= side and 0 < height <= side):
        raise _stopped()
    return RenderedPage(jpeg=data, width=width, height=height)


def _stopped() -> ProcessingError:
    return ProcessingError(
        "No preview could be made: drawing the first page stopped with an error (it "
        "needed too much memory, or the PDF is damaged). The signed form itself is stored."
    )


def _cm(points: object) -> Number | str:
    try:
        value = float(points)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "?"
    return Number(round(value * _CM_PER_POINT))


def add_preview(session: Session, blobs: BlobStore, asset: Asset, page: RenderedPage) -> Rendition:
    """Write `page` as the `preview` rendition of the evidence asset (the caller commits)."""
    directory = blobs.derived_dir(asset.id)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{PREVIEW}.jpg"
    write_atomic(target, page.jpeg)
    rendition = Rendition(
        asset_id=asset.id,
        name=PREVIEW,
        mime="image/jpeg",
        width=page.width,
        height=page.height,
        size=len(page.jpeg),
        sha256=hashlib.sha256(page.jpeg).hexdigest(),
        path=str(target.relative_to(blobs.root)),
    )
    session.add(rendition)
    return rendition
