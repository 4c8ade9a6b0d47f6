"""The verdict as API.md shows it, and the download that enforces it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import Session

from dam.auth import has_permission
from dam.models import User
from dam.settings import Settings
from gdpr import egress, gate, verdicts
from gdpr.verdict import Reason
from gdpr.verdict_text import describe, language
from web.deps import BlobsDep, SessionDep, SettingsDep, VisibleAsset, require
from web.files import file_response
from web.openapi import errors

router = APIRouter(prefix="/assets", tags=["consent"])


def verdict_public(
    session: Session, asset_id: str, *, settings: Settings, user: User, lang: str
) -> dict[str, Any]:
    """{channel: {"status", "reasons": [{"code", "message", ...}], "next_change_at"}}.

    Names appear in the messages only for roles that may read people."""
    rows = verdicts.stored(session, asset_id)
    show_names = has_permission(user, "people.read")
    person_ids = {r.get("person_id") for row in rows.values() for r in row.reasons}
    names = egress.names_of(session, [p for p in person_ids if p]) if show_names else {}
    out: dict[str, Any] = {}
    for channel in settings.channel_list:
        row = rows.get(channel)
        if row is None:
            continue
        out[channel] = {
            "status": row.status,
            "reasons": [
                {
                    **data,
                    "message": describe(
                        Reason.from_json(data),
                        channel=channel,
                        lang=lang,
                        names=names,
                        zone=settings.default_timezone,
                    ),
                }
                for data in row.reasons
            ],
            "next_change_at": row.next_change_at,
        }
    return out


@router.get("/{asset_id}/verdict")
def get_verdict(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
    *,
    asset: VisibleAsset,
) -> dict[str, Any]:
    """Each channel's verdict with its reasons (messages in the Accept-Language)."""
    lang = language(request.headers.get("accept-language"))
    return verdict_public(session, asset.id, settings=settings, user=user, lang=lang)


@router.get("/{asset_id}/download", response_class=FileResponse, responses=errors(409, 416))
def download(
    asset_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    channel: str = Query(..., max_length=32),
    redact: bool = False,
    user: User = Depends(require("assets.download_rendition")),
) -> Response:
    """The best rendition for `channel` when its verdict is `cleared`; otherwise 409 with
    the reasons, unless `redact=true` asks for a version with every face that is not
    cleared blurred."""
    lang = language(request.headers.get("accept-language"))
    ask = gate.ChannelDownload(asset_id=asset_id, channel=channel, redact=redact)
    released = gate.release(session, ask, by=user, settings=settings, blobs=blobs, lang=lang)
    return file_response(released)
