"""A preview of a signed consent form that is a PDF: its first page as a JPEG, so the
privacy officer sees which form it is without opening the file.

Rendered once, when the form is uploaded, with PDFium (the `pypdfium2` wheel), at most
PREVIEW_SIDE pixels on the long side whatever the page size claims (a page of 14,400
points must not become a gigapixel bitmap). The preview is a `preview` rendition of the
evidence asset: restricted like the form itself, served only through the gate. A PDF
PDFium cannot read gets no preview; the upload itself is never refused for that.
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

from sqlmodel import Session

from dam.blobs import BlobStore, write_atomic
from dam.models import Asset, Rendition

log = logging.getLogger(__name__)

PREVIEW = "preview"
PREVIEW_SIDE = 1200
QUALITY = 85


def first_page_jpeg(path: Path, *, side: int = PREVIEW_SIDE) -> tuple[bytes, int, int] | None:
    """The first page of the PDF at `path` as JPEG bytes with its width and height, or
    None when it cannot be rendered (damaged, encrypted, no pages)."""
    import pypdfium2 as pdfium  # imported here: only consent forms need it

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return None
    try:
        if len(document) == 0:
            return None
        page = document[0]
        width, height = page.get_size()  # in points
        if width <= 0 or height <= 0:
            return None
        scale = min(side / max(width, height), 4.0)
        image = page.render(scale=scale).to_pil().convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=QUALITY, optimize=True)
        return buffer.getvalue(), image.width, image.height
    except pdfium.PdfiumError:
        return None
    finally:
        document.close()


def add_preview(session: Session, blobs: BlobStore, asset: Asset) -> Rendition | None:
    """Render and record the preview of a PDF evidence asset (the caller commits)."""
    rendered = first_page_jpeg(blobs.original_path(asset.sha256))
    if rendered is None:
        log.info("no preview for evidence %s: PDFium could not render it", asset.id)
        return None
    data, width, height = rendered
    directory = blobs.derived_dir(asset.id)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{PREVIEW}.jpg"
    write_atomic(target, data)
    rendition = Rendition(
        asset_id=asset.id,
        name=PREVIEW,
        mime="image/jpeg",
        width=width,
        height=height,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=str(target.relative_to(blobs.root)),
    )
    session.add(rendition)
    return rendition
