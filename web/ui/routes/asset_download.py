"""The download control on an asset's page (web/templates/_download.html): pick a channel
(remembered per user), see its verdict with the reasons, then a preset, format and crop;
or the redacted version, or "request a review".

The control never links to a file that would be refused: its form goes to
`/assets/{id}/download`, which checks the request and the verdict and then sends the
browser on to the API's download (which goes through the gate), or back to the page with
a message. The crop form saves the crop a person chose per preset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from dam import crops, presets
from dam.errors import DomainError
from dam.models import Asset, AssetKind
from dam.settings import Settings
from gdpr.publishing import delivery, egress
from web.api.verdict_schemas import verdict_public
from web.deps import SessionDep, SettingsDep, get_runtime
from web.ui.deps import PageAsset, csrf_protect, page
from web.ui.redirects import see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Reader = Annotated[Viewer, Depends(page("assets.download_rendition"))]
CROP_PRESETS = (*presets.CROP_SIZES, "banner")
# What the preset list offers, in this order (the labels are in web/ui/labels.py).
PHOTO_PRESETS = ("web", "large", "print", *CROP_PRESETS, "custom")
FORMATS = ("jpeg", "webp", "avif", "png", "tiff")


@dataclass
class DownloadPanel:
    """What the download control shows for the chosen channel."""

    channel: str
    channels: list[str]
    status: str  # cleared, review, blocked or unknown
    reasons: list[str]
    may_redact: bool
    video: bool
    presets: list[str]
    preset: str
    formats: tuple[str, ...] = FORMATS
    crops: dict[str, dict[str, float]] = field(default_factory=dict)
    crop_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)


def download_context(request: Request, db: Session, viewer: Viewer, asset: Asset) -> dict[str, Any]:
    """`download` for _download.html (None while the asset is not ready)."""
    assert viewer.user is not None
    settings: Settings = get_runtime(request).settings
    if asset.status != "ready" or not viewer.can("assets.download_rendition"):
        return {"download": None}
    pref = delivery.preference(db, viewer.user, settings)
    channel = request.query_params.get("download_channel") or pref.channel
    if channel not in settings.channel_list:
        channel = pref.channel
    verdicts = verdict_public(db, asset.id, settings=settings, user=viewer.user, lang=viewer.locale)
    verdict = verdicts.get(channel) or {"status": "unknown", "reasons": []}
    status = str(verdict["status"])
    video = asset.kind == AssetKind.video
    # A video offers the web versions it has a file for (a 720p video has no web_1080).
    offered = egress.video_versions(db, asset) if video else list(PHOTO_PRESETS)
    if not video and viewer.can("assets.download_original"):
        offered.insert(0, "original")
    panel = DownloadPanel(
        channel=channel,
        channels=list(settings.channel_list),
        status=status,
        reasons=[
            str(r["message"])
            for r in verdict["reasons"]
            if status == "cleared" or r["code"] not in egress.NOT_IN_THE_WAY
        ],
        may_redact=status != "cleared"
        and status != "unknown"
        and delivery.redaction_clears(db, asset, channel, settings),
        video=video,
        presets=offered,
        preset=pref.preset if pref.preset in offered else (offered[0 if video else 1 :] or [""])[0],
    )
    if not video:
        banner = presets.parse_size(settings.banner_size)
        panel.crop_sizes = {**presets.CROP_SIZES, "banner": banner}
        found = delivery.crops_of(db, asset, settings, None)
        panel.crops = {
            name: {"x": c.box.x, "y": c.box.y, "w": c.box.w, "h": c.box.h}
            for name, c in found.items()
        }
    return {"download": panel}


def _back(asset_id: str, channel: str = "") -> Response:
    query = f"?{urlencode({'download_channel': channel})}" if channel else ""
    return see_other(f"/assets/{asset_id}{query}#download")


@router.get("/assets/{asset_id}/download")
def start_download(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    asset: PageAsset,
    channel: Annotated[str, Query(max_length=32)] = "",
    preset: Annotated[str, Query(max_length=32)] = "web",
    format: Annotated[str, Query(max_length=8)] = "",
    width: Annotated[str, Query(max_length=6)] = "",
    height: Annotated[str, Query(max_length=6)] = "",
    redact: Annotated[str, Query(max_length=5)] = "",
    usage: Annotated[str, Query(max_length=2000)] = "",
    captions: Annotated[str, Query(max_length=5)] = "",
) -> Response:
    """Check the choice, then on to the API's download; back with a message otherwise."""
    assert viewer.user is not None
    if channel not in settings.channel_list:
        flash(request, "error", viewer.gettext("Choose the channel the picture is for."))
        return _back(asset.id)
    params: dict[str, str] = {"channel": channel}
    if asset.kind == AssetKind.video:
        versions = egress.video_versions(db, asset)
        if preset not in versions:
            preset = versions[-1] if versions else presets.VIDEO_PRESETS[-1]
        params["preset"] = preset
        if captions == "true" and redact != "true":
            params["captions"] = ""  # every language the video has
    else:
        custom = preset == "custom"
        try:
            w = int(width) if custom and width else None
            h = int(height) if custom and height else None
            spec = presets.resolve(
                preset,
                fmt=None if preset == "original" else (format or None),
                width=w,
                height=h,
                banner=presets.parse_size(settings.banner_size),
            )
        except (DomainError, ValueError):
            flash(
                request,
                "error",
                viewer.gettext("Give a width and a height between 16 and 12000 pixels."),
            )
            return _back(asset.id, channel)
        params["preset"] = spec.preset.name
        if preset != "original":
            params["format"] = spec.fmt
        if custom:
            params |= {"width": str(spec.width), "height": str(spec.height)}
        if preset == "original" and not viewer.can("assets.download_original"):
            flash(request, "error", viewer.gettext("Your role may not download originals."))
            return _back(asset.id, channel)
    verdict = verdict_public(db, asset.id, settings=settings, user=viewer.user, lang=viewer.locale)
    cleared = verdict.get(channel, {}).get("status") == "cleared"
    if not cleared:
        if redact != "true" or not delivery.redaction_clears(db, asset, channel, settings):
            flash(request, "error", viewer.gettext("This picture is not cleared for this channel."))
            return _back(asset.id, channel)
        params["redact"] = "true"
    if usage.strip():
        params["usage"] = usage.strip()
    return see_other(f"/api/v1/assets/{asset.id}/download?{urlencode(params)}")


@router.post("/assets/{asset_id}/review-request")
def ask_review(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    asset: PageAsset,
    channel: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """'Vraag een controle aan': the privacy officers get a notice."""
    assert viewer.user is not None
    if channel not in settings.channel_list:
        flash(request, "error", viewer.gettext("Choose the channel the picture is for."))
        return _back(asset.id)
    delivery.request_review(db, asset=asset, channel=channel, actor=viewer.user, settings=settings)
    flash(
        request,
        "success",
        viewer.gettext("The privacy officers were asked to review this picture."),
    )
    return _back(asset.id, channel)


@router.post("/assets/{asset_id}/frame")
def save_crop(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    asset: PageAsset,
    preset: Annotated[str, Form(max_length=32)] = "",
    x: Annotated[str, Form(max_length=12)] = "",
    y: Annotated[str, Form(max_length=12)] = "",
    w: Annotated[str, Form(max_length=12)] = "",
    h: Annotated[str, Form(max_length=12)] = "",
    channel: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """The crop a person chose for a preset, in percent of the picture."""
    assert viewer.user is not None
    try:
        box = crops.checked_box(*(float(v.replace(",", ".")) / 100 for v in (x, y, w, h)))
        if preset not in CROP_PRESETS:
            raise ValueError(preset)
        delivery.save_crop(
            db, asset=asset, preset=preset, box=box, actor=viewer.user, settings=settings
        )
    except (DomainError, ValueError):
        flash(
            request,
            "error",
            viewer.gettext("The crop must lie within the picture (percentages from 0 to 100)."),
        )
        return _back(asset.id, channel)
    flash(request, "success", viewer.gettext("The crop was saved."))
    return _back(asset.id, channel)
