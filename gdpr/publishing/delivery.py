"""A download for a channel in a preset: which source (the original, or the redacted
version), which crop (asked, chosen before, or automatic: faces whole, else attention),
what metadata travels, and what is remembered (the crop, the user's channel, where the
picture will be published). gdpr/gate.py calls `deliver_photo` once it resolved
visibility; everything here runs only for a request the gate lets through.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from sqlmodel import Session, col, select

from dam import audit, clock, crops, file_metadata, presets, render
from dam.auth import check_permission
from dam.blobs import BlobStore
from dam.crops import Crop
from dam.errors import InvalidInput, NotCleared
from dam.geometry import Box
from dam.models import (
    Asset,
    AssetCrop,
    AssetStatus,
    AssetTag,
    DownloadPreference,
    Face,
    FaceState,
    Rendition,
    User,
    VerdictStatus,
)
from dam.settings import Settings
from dam.urls import is_web_address
from gdpr.consent import notifications
from gdpr.judgement import verdicts
from gdpr.judgement.verdict import judge_redacted
from gdpr.publishing import egress, redaction, usages


@dataclass(frozen=True)
class Options:
    """What a download asks for besides its channel."""

    preset: str = "large"
    fmt: str | None = None
    width: int | None = None
    height: int | None = None
    crop: str | None = None  # "x,y,w,h"
    usage: str | None = None  # where it will be published (recorded as a usage)


@dataclass(frozen=True)
class Delivered:
    path: Path  # a temporary file: removed once sent
    mime: str
    filename: str
    crop: Box


def spec_for(options: Options, settings: Settings) -> presets.Spec:
    return presets.resolve(
        options.preset,
        fmt=options.fmt,
        width=options.width,
        height=options.height,
        banner=presets.parse_size(settings.banner_size),
    )


def face_boxes(session: Session, asset_id: str) -> list[Box]:
    """Every face a person did not dismiss, as boxes of the upright image."""
    rows = session.exec(
        select(Face).where(Face.asset_id == asset_id, Face.state != FaceState.dismissed)
    ).all()
    return [Box(f.box_x, f.box_y, f.box_w, f.box_h) for f in rows]


def saved_crop(session: Session, asset_id: str, preset: str) -> Box | None:
    row = session.get(AssetCrop, (asset_id, preset))
    return Box(row.x, row.y, row.w, row.h) if row else None


def chosen_crop(box: Box, faces: list[Box]) -> Crop:
    """A crop a person saved, saying whether it still holds every face whole (a person may
    cut a head off on purpose; `faces_whole` must not claim otherwise)."""
    return Crop(box, source="saved", faces_whole=all(box.contains(f) for f in faces))


def automatic_crop(
    faces: list[Box], width: int, height: int, aspect: float, source: Path | None
) -> Crop:
    """Faces whole and centred; without faces where the attention map leads (the centre
    when there is no picture to look at)."""
    by_faces = crops.face_crop(width, height, aspect, faces)
    if by_faces is not None:
        return by_faces
    if source is None:
        w, h = crops.window(width, height, aspect)
        return Crop(Box((1 - w) / 2, (1 - h) / 2, w, h), source="full")
    return crops.attention_crop(render.attention_map(source), width, height, aspect)


def smaller_source(
    session: Session,
    blobs: BlobStore,
    asset: Asset,
    spec: presets.Spec,
    requested: Box | None,
    original: Path,
) -> tuple[Path, Box | None]:
    """The `large` rendition (upright, sRGB, 2560 px) instead of the original when it
    holds at least the pixels the output needs; print (its ICC profile, full size) and
    larger outputs come from the original. With it, the crop chosen on the way."""
    if spec.preset.icc or not (asset.width and asset.height):
        return original, None
    large = session.exec(
        select(Rendition).where(Rendition.asset_id == asset.id, Rendition.name == "large")
    ).first()
    if large is None or not large.mime.startswith("image/jpeg"):
        return original, None
    path = blobs.root / large.path
    width, height = asset.width, asset.height
    box = (
        choose_crop(session, asset, spec, requested, path, width, height).box
        if spec.cropped
        else crops.FULL
    )
    out_w, out_h = presets.output_size(box.w * width, box.h * height, spec)
    covers = out_w <= box.w * large.width + 0.5 and out_h <= box.h * large.height + 0.5
    return (path, box) if covers and path.is_file() else (original, box)


def choose_crop(
    session: Session,
    asset: Asset,
    spec: presets.Spec,
    requested: Box | None,
    source: Path,
    width: int,
    height: int,
) -> Crop:
    """The asked crop (made to fit the preset's shape), the one chosen before for this
    preset, or the automatic one."""
    if requested is not None:
        return Crop(crops.aspect_fit(requested, width, height, spec.aspect), source="requested")
    saved = saved_crop(session, asset.id, spec.preset.name)
    if saved is not None:
        return Crop(crops.aspect_fit(saved, width, height, spec.aspect), source="saved")
    return automatic_crop(face_boxes(session, asset.id), width, height, spec.aspect, source)


def metadata_for(
    session: Session, asset: Asset, settings: Settings, channel: str
) -> file_metadata.FileMetadata:
    """What the file says about itself: the asset's words, tags, rights and licence; GPS
    only on a channel that keeps it."""
    meta = asset.meta or {}
    licence = asset.licence or {}
    gps = meta.get("gps") if channel in settings.gps_channel_set else None
    point = None
    if isinstance(gps, dict) and isinstance(gps.get("lat"), int | float):
        point = (float(gps["lat"]), float(gps["lon"]))
    tags = session.exec(
        select(AssetTag.tag).where(AssetTag.asset_id == asset.id).order_by(col(AssetTag.tag))
    ).all() or [str(k) for k in meta.get("keywords") or []]
    return file_metadata.FileMetadata(
        title=asset.title or "",
        description=asset.description or "",
        alt_text=asset.alt_text or "",
        keywords=tuple(tags),
        creator=str(meta.get("creator") or ""),
        # The credit alone: the copyright notice has its own fields (dc:rights, EXIF and
        # IIM Copyright); shares.credit_line joins the two for pages, not for files.
        credit=next(
            (str(v) for v in (licence.get("credit"), meta.get("credit"), meta.get("creator")) if v),
            "",
        ),
        copyright=str(meta.get("copyright") or ""),
        usage_terms=str(licence.get("terms") or meta.get("usage_terms") or ""),
        licence_url=str(licence.get("url") or meta.get("web_statement") or ""),
        asset_id=asset.id,
        link=f"{settings.public_url.rstrip('/')}/assets/{asset.id}",
        gps=point,
    )


def deliver_photo(
    session: Session,
    blobs: BlobStore,
    asset: Asset,
    channel: str,
    options: Options,
    *,
    redact: bool,
    settings: Settings,
    actor: User,
    lang: str,
    names_visible: bool,
) -> Delivered:
    """The photo for `channel` in `options.preset`, cleared (or redacted when asked and
    enough), rendered with its metadata into a temporary file, audited."""
    egress.require_channel(settings, channel)
    if asset.status != AssetStatus.ready:
        raise NotCleared("The asset is not processed yet.", reasons=[])
    spec = spec_for(options, settings)
    requested = crops.parse_box(options.crop) if options.crop else None
    if spec.preset.mode == "original":
        check_permission(actor, "assets.download_original")
        if redact:
            raise InvalidInput("A redacted version exists in the other presets, not as original.")
    meta = metadata_for(session, asset, settings, channel)
    stem = asset.filename.rsplit(".", 1)[0] or asset.id
    if redact:
        made = redaction.redacted_download(
            session, blobs, asset, channel, settings=settings, actor=actor, lang=lang
        )
        assert isinstance(made, redaction.Redacted)  # photos are blurred in the request
        source, suffix = made.path, "-redacted"
    else:
        egress.require_cleared(
            session, asset.id, channel, settings=settings, lang=lang, names_visible=names_visible
        )
        source, suffix = blobs.original_path(asset.sha256), ""
    # Everything the file needs is read now; then the transaction ends, so that no lock
    # (SQLite's write lock) is held while the picture is decoded and encoded.
    box = crops.FULL
    if spec.preset.mode != "original":
        known: Box | None = None
        if not redact:  # the large rendition is enough for most presets: faster
            source, known = smaller_source(session, blobs, asset, spec, requested, source)
        elif spec.cropped and asset.width and asset.height:
            known = choose_crop(
                session, asset, spec, requested, source, asset.width, asset.height
            ).box
        if known is not None:
            box = known
        elif spec.cropped:  # size unknown: measure the file (rare)
            with Image.open(source) as opened:
                width, height, _ = render.upright_size(opened)
            box = choose_crop(session, asset, spec, requested, source, width, height).box
    asset_id, filename, original_mime = asset.id, asset.filename, asset.mime
    actor_id = actor.id
    session.commit()
    fd, name = tempfile.mkstemp(dir=blobs.tmp_dir, prefix="download-")
    target = Path(name)
    try:
        with open(fd, "wb"):
            pass
        if spec.preset.mode == "original":
            shutil.copyfile(source, target)
            if not file_metadata.scrub_original(target, meta):
                # Location and serial numbers must not leave unseen (HEIC, for one).
                raise InvalidInput(
                    "This original's format cannot be cleaned of its location and device "
                    "data; download it in the print preset (full resolution) instead."
                )
            ext = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
            mime = original_mime
        else:
            render.render(
                source,
                target,
                spec=spec,
                choose=lambda width, height: box,
                meta=meta,
                max_pixels=settings.max_image_pixels,
            )
            ext, mime = presets.EXTENSIONS[spec.fmt], presets.FORMATS[spec.fmt]
        if not redact:  # a redacted download was audited with the faces it blurred
            audit.record(
                session,
                action="asset.downloaded",
                actor_id=actor_id,
                subject_type="asset",
                subject_id=asset_id,
                details={
                    "channel": channel,
                    "preset": spec.preset.name,
                    "format": spec.fmt,
                    "crop": box.as_text(),
                },
            )
        remember_channel(session, actor_id, channel, spec.preset.name)
        if options.usage and options.usage.strip():
            record_usage(session, asset_id, channel, options.usage, actor, settings)
        session.commit()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Delivered(
        path=target,
        mime=mime,
        filename=f"{stem}-{channel}-{spec.preset.name}{suffix}.{ext}",
        crop=box,
    )


def record_usage(
    session: Session, asset_id: str, channel: str, text: str, actor: User, settings: Settings
) -> None:
    """'Where will it be published?': an address becomes the usage's URL, words its note."""
    text = text.strip()[:2000]
    data = usages.UsageInput(
        channel=channel,
        url=text if is_web_address(text) else None,
        note="" if is_web_address(text) else text,
    )
    usages.record_usage(session, asset_id=asset_id, data=data, actor=actor, settings=settings)


def remember_channel(session: Session, user_id: str, channel: str, preset: str) -> None:
    pref = session.get(DownloadPreference, user_id)
    if pref is None:
        session.add(DownloadPreference(user_id=user_id, channel=channel, preset=preset))
    else:
        pref.channel, pref.preset, pref.updated_at = channel, preset, clock.now()
        session.add(pref)


def preference(session: Session, user: User, settings: Settings) -> DownloadPreference:
    """The user's last channel and preset (the first channel and `web` at first)."""
    pref = session.get(DownloadPreference, user.id)
    if pref is None or pref.channel not in settings.channel_list:
        return DownloadPreference(user_id=user.id, channel=settings.channel_list[0], preset="web")
    return pref


def save_crop(
    session: Session, *, asset: Asset, preset: str, box: Box, actor: User, settings: Settings
) -> AssetCrop:
    """Remember `box` (made to the preset's shape) as the crop for `preset`."""
    spec = spec_for(Options(preset=preset), settings)
    if not spec.cropped or preset == "custom":
        raise InvalidInput("Only the crop presets (square, portrait, ...) keep a chosen crop.")
    fitted = crops.aspect_fit(box, asset.width or 1, asset.height or 1, spec.aspect)
    row = session.get(AssetCrop, (asset.id, preset)) or AssetCrop(
        asset_id=asset.id, preset=preset, x=0, y=0, w=1, h=1
    )
    row.x, row.y, row.w, row.h = fitted.x, fitted.y, fitted.w, fitted.h
    row.chosen_by, row.updated_at = actor.id, clock.now()
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def crops_of(
    session: Session, asset: Asset, settings: Settings, source: Path | None
) -> dict[str, Crop]:
    """Per crop preset the crop a download would use now: the saved one, else faces
    whole, else (with the `source` file to look at) the attention crop."""
    width, height = asset.width or 1, asset.height or 1
    faces = face_boxes(session, asset.id)
    saved = {
        r.preset: r
        for r in session.exec(select(AssetCrop).where(col(AssetCrop.asset_id) == asset.id))
    }
    energy = render.attention_map(source) if source is not None and not faces else None
    found: dict[str, Crop] = {}
    for name in (*presets.CROP_SIZES, "banner"):
        spec = spec_for(Options(preset=name), settings)
        row = saved.get(name)
        if row is not None:
            found[name] = chosen_crop(Box(row.x, row.y, row.w, row.h), faces)
        elif energy is not None:
            found[name] = crops.attention_crop(energy, width, height, spec.aspect)
        else:
            found[name] = automatic_crop(faces, width, height, spec.aspect, None)
    return found


def request_review(
    session: Session, *, asset: Asset, channel: str, actor: User, settings: Settings
) -> bool:
    """'Vraag een controle aan': privacy officers get a notice naming the asset and the
    channel (one per asset, channel and day). True when a new notice was added."""
    egress.require_channel(settings, channel)
    day = clock.now().date().isoformat()
    added = notifications.add(
        session,
        kind=notifications.REVIEW_REQUESTED,
        subject_type="asset",
        subject_id=asset.id,
        dedupe_key=f"review:{asset.id}:{channel}:{day}",
        params={"channel": channel, "asset_id": asset.id},
    )
    audit.record(
        session,
        action="asset.review_requested",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset.id,
        details={"channel": channel},
    )
    session.commit()
    return added


def crops_for_asset(
    session: Session, blobs: BlobStore, asset: Asset, settings: Settings
) -> dict[str, Crop]:
    """crops_of with the asset's original to look at (photos only)."""
    source = blobs.original_path(asset.sha256) if asset.kind == "image" else None
    if source is not None and not source.is_file():
        source = None
    return crops_of(session, asset, settings, source)


def redaction_clears(session: Session, asset: Asset, channel: str, settings: Settings) -> bool:
    """Whether blurring the faces not cleared makes the asset `cleared` for `channel`
    (the download control offers the redacted version only then)."""
    terms, people = verdicts.asset_terms(session, asset.id, settings=settings)
    if terms is None:
        return False
    verdict, _ = judge_redacted(terms, people, channel, clock.now(), verdicts.rules_for(settings))
    return bool(verdict.status == VerdictStatus.cleared)
