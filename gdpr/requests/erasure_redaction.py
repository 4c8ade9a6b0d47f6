"""Blurring an erased person's faces into the photos Beeldbank keeps (art. 17, "redact";
videos: gdpr/requests/erasure_videos.py).

Unlike a redacted download (gdpr/publishing/redaction.py, made per request and thrown away), this
changes what is stored: every image rendition is blurred where it lies, and the original
is replaced by a blurred copy, since renditions are rebuilt from the original and must
not bring the face back. The blurring itself is gdpr.publishing.face_blur's, the same as downloads'.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps
from sqlmodel import Session, select

from dam.blobs import BlobStore, write_atomic
from dam.models import Asset, Face, Rendition
from gdpr.publishing.face_blur import FaceArea, blur_photo, photo_boxes

# Formats a blurred original keeps; anything else (HEIC, TIFF, ...) becomes a JPEG.
KEPT_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
QUALITY = 92


@dataclass(frozen=True)
class StoredRedaction:
    renditions: int
    replaced_original: str  # the unblurred original's hash: delete it after the commit


def redact_stored(
    session: Session, blobs: BlobStore, asset: Asset, faces: Sequence[Face]
) -> StoredRedaction:
    """Blur `faces` into every image rendition of `asset` and into a new original."""
    areas = [FaceArea(f.box_x, f.box_y, f.box_w, f.box_h) for f in faces]
    count = 0
    for rendition in session.exec(select(Rendition).where(Rendition.asset_id == asset.id)):
        if not rendition.mime.startswith("image/"):
            continue
        path = blobs.root / rendition.path
        if not path.is_file():
            continue
        data = _blurred(path, areas, upright=False)[0]
        write_atomic(path, data)
        rendition.sha256, rendition.size = hashlib.sha256(data).hexdigest(), len(data)
        session.add(rendition)
        count += 1
    old = asset.sha256
    data, fmt = _blurred(blobs.original_path(old), areas, upright=True)
    stored = blobs.put_stream([data])
    if KEPT_FORMATS[fmt] != asset.mime:  # e.g. a HEIC original is now a JPEG
        stem = asset.filename.rsplit(".", 1)[0] or asset.id
        asset.filename = f"{stem}.{fmt.lower().replace('jpeg', 'jpg')}"
        asset.mime = KEPT_FORMATS[fmt]
    asset.sha256, asset.size = stored.sha256, stored.size
    session.add(asset)
    return StoredRedaction(count, old)


def _blurred(path: Path, areas: Sequence[FaceArea], *, upright: bool) -> tuple[bytes, str]:
    """The image at `path` with `areas` blurred, encoded, and its format. `upright`: apply
    the EXIF orientation first (face boxes are relative to the upright picture); the
    result carries no metadata, which may name people too."""
    with Image.open(path) as opened:
        fmt = opened.format or "JPEG"
        image = ImageOps.exif_transpose(opened) if upright else opened.copy()
    if fmt not in KEPT_FORMATS:
        fmt = "JPEG"
    if image.mode not in ("RGB", "L") or fmt == "JPEG":
        image = image.convert("RGB")
    blurred = blur_photo(image, photo_boxes(areas, width=image.width, height=image.height))
    out = io.BytesIO()
    blurred.save(out, fmt, quality=QUALITY)
    return out.getvalue(), fmt
