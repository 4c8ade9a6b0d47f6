"""Blurring an erased person's faces into the photos Beeldbank keeps (art. 17, "redact";
videos: gdpr/requests/erasure_videos.py).

Unlike a redacted download (gdpr/publishing/redaction.py, made per request and thrown away), this
changes what is stored: every image rendition is blurred, and the original is replaced by
a blurred copy, since renditions are rebuilt from the original and must not bring the face
back. The blurring itself is gdpr.publishing.face_blur's, the same as downloads'.

Decoding, blurring and encoding take a while, so they happen before the erasure's
transaction, one photo at a time (`Prepared.make`; on SQLite a transaction holds the write
lock, and nothing else could write meanwhile, the job's progress included). The results
wait as temp files (gdpr/requests/erasure_staging.py: a crash leaves only those, removed
by the next start). The transaction takes a prepared photo
only when it was made from the asset's current original and renditions with the boxes its
faces have now (the plan's key); `apply` then only moves the files into place.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image, ImageOps
from sqlmodel import Session, col, select

from dam.blobs import BlobStore
from dam.errors import ProcessingError
from dam.models import Asset, AssetKind, Face, Rendition
from gdpr.publishing.face_blur import FaceArea, blur_photo, photo_boxes
from gdpr.requests.erasure_staging import Placement, Staged, stage_chunks

# Formats a blurred original keeps; anything else (HEIC, TIFF, ...) becomes a JPEG.
KEPT_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
QUALITY = 92
# Part of every plan's key: a change to how photos are blurred makes new ones.
VERSION = 1


@dataclass(frozen=True)
class RenditionSource:
    """An image rendition to blur: its row, its file, and the content it has now."""

    rendition_id: str
    path: str
    sha256: str


@dataclass(frozen=True)
class PhotoPlan:
    """A photo's blurred files to make: from which original and renditions, where."""

    asset_id: str
    source: str  # the sha256 of the original it is made from
    boxes: tuple[tuple[float, float, float, float], ...]  # the faces, relative, upright
    renditions: tuple[RenditionSource, ...]

    @property
    def key(self) -> str:
        recipe = json.dumps({"v": VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(recipe.encode()).hexdigest()


@dataclass(frozen=True)
class PreparedPhoto:
    original: Staged
    format: str  # one of KEPT_FORMATS
    renditions: dict[str, Staged]  # by rendition id

    def discard(self) -> None:
        for staged in (self.original, *self.renditions.values()):
            staged.discard()


@dataclass(frozen=True)
class Applied:
    old_original: str  # the unblurred original's hash: delete it after the commit
    renditions: int


def plan_photos(session: Session, faces: Sequence[Face]) -> list[PhotoPlan]:
    """A plan for each asset of `faces` (the person's confirmed faces) that is no video."""
    by_asset: dict[str, list[Face]] = {}
    for face in faces:
        by_asset.setdefault(face.asset_id, []).append(face)
    plans = []
    for asset_id in sorted(by_asset):
        asset = session.get(Asset, asset_id)
        if asset is None or AssetKind(asset.kind) == AssetKind.video:
            continue
        renditions = session.exec(
            select(Rendition)
            .where(Rendition.asset_id == asset_id, col(Rendition.mime).startswith("image/"))
            .order_by(col(Rendition.id))
        )
        boxes = sorted((f.box_x, f.box_y, f.box_w, f.box_h) for f in by_asset[asset_id])
        plans.append(
            PhotoPlan(
                asset_id=asset.id,
                source=asset.sha256,
                boxes=tuple(boxes),
                renditions=tuple(RenditionSource(r.id, r.path, r.sha256) for r in renditions),
            )
        )
    return plans


@dataclass
class Prepared:
    """The blurred photos made for one erasure, by plan key."""

    made: dict[str, PreparedPhoto] = field(default_factory=dict)

    def missing(self, plans: Sequence[PhotoPlan]) -> list[PhotoPlan]:
        return [p for p in plans if p.key not in self.made]

    def make(
        self, plans: Sequence[PhotoPlan], *, blobs: BlobStore, progress: Callable[[int], None]
    ) -> None:
        """Blur each plan's photo into temp files (call with no transaction open);
        `progress` hears how many of them are done after each."""
        for number, plan in enumerate(plans):
            self.made[plan.key] = prepare(blobs, plan)
            progress(number + 1)

    def discard(self) -> None:
        """Remove the blurred files no asset took (the erasure failed, or a photo changed
        and was blurred again)."""
        for photo in self.made.values():
            photo.discard()
        self.made.clear()


def prepare(blobs: BlobStore, plan: PhotoPlan) -> PreparedPhoto:
    """The plan's original and renditions with the faces blurred, as temp files."""
    areas = [FaceArea(*box) for box in plan.boxes]
    renditions: dict[str, Staged] = {}
    try:
        for rendition in plan.renditions:
            path = blobs.root / rendition.path
            if not path.is_file():
                continue
            data = _blurred(path, areas, upright=False)[0]
            renditions[rendition.rendition_id] = stage_chunks(blobs, [data])
        source = blobs.original_path(plan.source)
        if not source.is_file():
            raise ProcessingError(
                "The original of a photo this person is on is missing from storage; an "
                "administrator can run `dam check`. Nothing was erased."
            )
        data, fmt = _blurred(source, areas, upright=True)
        return PreparedPhoto(stage_chunks(blobs, [data]), fmt, renditions)
    except BaseException:
        for staged in renditions.values():
            staged.discard()
        raise


def apply(
    session: Session, asset: Asset, plan: PhotoPlan, prepared: Prepared, placement: Placement
) -> Applied:
    """Take the prepared photo (in the caller's transaction, its plan checked): the blurred
    renditions go where the renditions lie, the blurred original becomes the asset's, both
    when the transaction settles its `placement`."""
    photo = prepared.made[plan.key]
    count = 0
    for source in plan.renditions:
        blurred = photo.renditions.get(source.rendition_id)
        rendition = session.get(Rendition, source.rendition_id)
        if blurred is None or rendition is None:
            continue
        placement.files.append((blurred, Path(rendition.path)))
        rendition.sha256, rendition.size = blurred.sha256, blurred.size
        session.add(rendition)
        count += 1
    stored = photo.original
    placement.originals.append(stored)
    old = asset.sha256
    if KEPT_FORMATS[photo.format] != asset.mime:  # e.g. a HEIC original is now a JPEG
        stem = asset.filename.rsplit(".", 1)[0] or asset.id
        asset.filename = f"{stem}.{photo.format.lower().replace('jpeg', 'jpg')}"
        asset.mime = KEPT_FORMATS[photo.format]
    asset.sha256, asset.size = stored.sha256, stored.size
    session.add(asset)
    return Applied(old, count)


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
