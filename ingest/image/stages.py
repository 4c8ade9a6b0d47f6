"""The photo pipeline's stages: probe (size and metadata) and renditions."""

from __future__ import annotations

import hashlib
from zoneinfo import ZoneInfo

from sqlmodel import Session, delete

from dam.assets import MAX_TAGS, normalise_tags
from dam.blobs import write_atomic
from dam.clock import now
from dam.jobs import StageContext
from dam.models import Asset, AssetTag, Rendition
from ingest import archive_xmp
from ingest.faces.stage import DecodedPhoto, shared_detail_edge
from ingest.image import hashes, metadata
from ingest.image.decode import decode_for_renditions, open_image, upright_dimensions
from ingest.image.renditions import LARGEST_EDGE, make_renditions
from ingest.originals import load_original


def probe_image(ctx: StageContext) -> None:
    """Read dimensions (upright) and EXIF/IPTC/XMP into the asset."""
    asset, path, label = load_original(ctx)
    limit = ctx.settings.max_image_pixels
    with open_image(path, label=label, max_pixels=limit, header_only=True) as image:
        width, height = upright_dimensions(image)
        raw = metadata.read_raw(image)
        meta = metadata.build(raw)
        archive = archive_xmp.parse(raw.xmp)
    ctx.report_progress(0.8)
    with ctx.session() as session:
        row = session.get(Asset, asset.id)
        if row is None:
            return
        row.width, row.height = width, height
        # What an import put there (a sidecar's rating, label, people) wins over the file.
        row.meta = {**meta.as_json(), **archive_xmp.as_meta(archive), **(row.meta or {})}
        if meta.taken_at is not None:
            taken = meta.taken_at
            if taken.tzinfo is None:
                taken = taken.replace(tzinfo=ZoneInfo(ctx.settings.default_timezone))
            row.taken_at = taken
            row.taken_at_offset_min = meta.taken_at_offset_min
        # Embedded descriptions fill empty fields only: what a person typed wins.
        row.title = row.title or (meta.title or "")[:500]
        row.licence = metadata.fill_licence(row.licence, metadata.licence_fields(meta))
        row.description = row.description or (meta.description or "")
        row.alt_text = row.alt_text or (archive.alt_text or "")[:1000]
        keywords = list(dict.fromkeys([*meta.keywords, *archive.keywords]))
        if keywords and not _has_tags(session, row.id):
            for keyword in normalise_tags(keywords)[:MAX_TAGS]:
                session.add(AssetTag(asset_id=row.id, tag=keyword.strip().lower()[:100]))
        row.updated_at = now()
        session.commit()


def render_image(ctx: StageContext) -> None:
    """Decode once; write the renditions, the placeholder and the perceptual hash.

    What was decoded is handed on to the faces stage (it runs next, in this worker): the
    large rendition's picture, and the decode itself when it is the size that stage
    searches for small faces at (a camera JPEG's half size, its DCT-scaled decode)."""
    asset, path, label = load_original(ctx)
    with open_image(path, label=label, max_pixels=ctx.settings.max_image_pixels) as image:
        stored = image.size  # before a JPEG's draft decodes it smaller
        detail_edge = (
            shared_detail_edge(
                path,
                label=label,
                width=image.width,
                height=image.height,
                smallest_face=ctx.settings.face_min_size_px,
            )
            if ctx.settings.face_detection
            else None
        )
        upright = decode_for_renditions(image, label=label, path=path, long_edge=LARGEST_EDGE)
        # Asked once decoded: a damaged PNG fails in the decode above, with its reason.
        full_size = upright_dimensions(image, stored)
        detail = None
        if detail_edge is not None and max(image.size) == detail_edge:
            # Decoded already: this only converts and turns it.
            detail = decode_for_renditions(image, label=label, path=path, long_edge=detail_edge)
    if ctx.settings.face_detection:
        ctx.hand_on(DecodedPhoto(asset.sha256, full_size, upright, detail))
    ctx.report_progress(0.4)
    encoded, smallest = make_renditions(upright)
    placeholder = hashes.placeholder(smallest)
    phash = hashes.phash(smallest)
    directory = ctx.blobs.derived_dir(asset.id)
    rows = []
    for item in encoded:
        target = directory / f"{item.spec.name}.{item.spec.extension}"
        write_atomic(target, item.data)
        rows.append(
            Rendition(
                asset_id=asset.id,
                name=item.spec.name,
                mime=item.spec.mime,
                width=item.width,
                height=item.height,
                size=len(item.data),
                sha256=hashlib.sha256(item.data).hexdigest(),
                path=str(target.relative_to(ctx.blobs.root)),
            )
        )
    with ctx.session() as session:
        row = session.get(Asset, asset.id)
        if row is None:
            return
        session.exec(delete(Rendition).where(Rendition.asset_id == asset.id))  # type: ignore[arg-type]
        session.add_all(rows)
        row.blurhash = placeholder
        row.phash = hashes.to_hex(phash)
        row.phash_b0, row.phash_b1, row.phash_b2, row.phash_b3 = hashes.bands(phash)
        row.updated_at = now()
        session.commit()


def _has_tags(session: Session, asset_id: str) -> bool:
    from sqlmodel import select

    return session.exec(select(AssetTag).where(AssetTag.asset_id == asset_id)).first() is not None
