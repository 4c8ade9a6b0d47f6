"""Share links: a public address for one asset and one channel, with an optional expiry
and password, that serves only while the asset's verdict for that channel is `cleared`.

The token is shown once and only its SHA-256 is stored, so a copy of the database does
not hand out working links. Each serve re-checks the link and the verdict at that moment,
so a revocation, an expiry or a withdrawn consent stops the link at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import update
from sqlmodel import Session, col, select

from dam import audit, clock
from dam.assets import get_asset
from dam.auth import hash_password, verify_password
from dam.errors import Gone, InvalidInput, NotFound
from dam.input_types import DayOrMoment
from dam.models import Asset, AssetKind, Caption, Rendition, ShareLink, User, VerdictStatus
from dam.settings import Settings
from gdpr.judgement import verdicts
from gdpr.judgement.verdict import BLOCKING, REVIEW
from gdpr.judgement.verdict_text import channel_label
from gdpr.publishing import egress

TOKEN_BYTES = 24  # 192 random bits (at least 128 are required)
# What secrets.token_urlsafe produces; anything else cannot be a token.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MIN_PASSWORD_LENGTH = 8

# What a share page and an embed show (the application's own display sizes), and what its
# download button hands out (the channel's rendition, as the API's download does).
VIEW_RENDITIONS = {AssetKind.image: ("preview", "large"), AssetKind.video: ("web_720", "web_1080")}
Variant = Literal["view", "poster", "download"]

LinkState = Literal["active", "expired", "revoked"]
# Reasons about a person; the asset-level ones (embargo, licence, alt text) name nobody.
PERSON_CODES = BLOCKING - {
    "restricted",
    "embargo",
    "licence_channel",
    "licence_expired",
    "alt_text_missing",
}


class ShareInput(BaseModel):
    """A new share link. A date without a time expires at the end of that day (local)."""

    model_config = {"extra": "forbid"}

    channel: str = Field(min_length=1, max_length=32)
    expires_at: DayOrMoment | None = None
    password: str | None = Field(None, max_length=1024)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        if not value:
            return None
        if len(value) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        return value


@dataclass(frozen=True)
class ShareChannels:
    """The channels a new link for an asset can be made for (those it is cleared for now),
    and the others, each in DAM_CHANNELS order."""

    cleared: tuple[str, ...]
    not_cleared: tuple[str, ...]


@dataclass(frozen=True)
class CreatedShare:
    link: ShareLink
    token: str  # shown once: only its hash is stored


@dataclass(frozen=True)
class SharedAsset:
    """What a public page may show of a shared asset: no people, no internal ids."""

    kind: AssetKind
    title: str
    alt_text: str
    credit: str
    licence: str
    width: int | None
    height: int | None
    view_mime: str
    download_mime: str
    download_size: int
    has_poster: bool
    captions: tuple[tuple[str, str, str], ...]  # (language, label, kind)


@dataclass(frozen=True)
class OpenedShare:
    """A link that opened: `locked` while its password is still to be given, in which case
    its verdict was not looked at (nothing about the asset shows before the password)."""

    link: ShareLink
    locked: bool


def share_path(token: str) -> str:
    """The public page of a link (`/s/<token>`); its files, and the cookie that remembers
    its password, live under it."""
    return f"/s/{token}"


def share_url(base_url: str, token: str, *, embed: bool = False) -> str:
    """The address to hand out for a link, or for its embed page, on the site at `base_url`."""
    path = f"/embed/{token}" if embed else share_path(token)
    return base_url.rstrip("/") + path


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def expiry_moment(value: date | datetime | None, zone: str) -> datetime | None:
    """A date means "through that whole day" in the team's zone; a naive time is local."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))
    return verdicts.end_of_day(value, zone)


def state_of(link: ShareLink, at: datetime | None = None) -> LinkState:
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and link.expires_at <= (at or clock.now()):
        return "expired"
    return "active"


def share_channels(session: Session, asset_id: str, *, settings: Settings) -> ShareChannels:
    """Which channels a link can be made for now: `create_share` refuses the others, since
    a link serves only while the asset's verdict for its channel is `cleared`."""
    get_asset(session, asset_id)
    cleared: list[str] = []
    not_cleared: list[str] = []
    for channel in settings.channel_list:
        verdict = verdicts.current(session, asset_id, channel, settings=settings)
        ok = verdict is not None and verdict.status == VerdictStatus.cleared
        (cleared if ok else not_cleared).append(channel)
    return ShareChannels(cleared=tuple(cleared), not_cleared=tuple(not_cleared))


def create_share(
    session: Session, *, asset_id: str, data: ShareInput, actor: User, settings: Settings
) -> CreatedShare:
    """A new link; the returned token is the only copy there will ever be. Only for a
    channel the asset is cleared for now (NotCleared with the verdict's reasons
    otherwise): a link for any other would only show visitors a refusal. It serves only
    while the verdict stays cleared (`resolve`)."""
    asset = get_asset(session, asset_id)
    if asset.restricted:
        raise InvalidInput("Consent evidence is never shared.")
    egress.require_channel(settings, data.channel)
    egress.require_cleared(session, asset.id, data.channel, settings=settings)
    expires_at = expiry_moment(data.expires_at, settings.default_timezone)
    if expires_at is not None and expires_at <= clock.now():
        raise InvalidInput("The expiry date lies in the past; choose a later one.")
    token = new_token()
    link = ShareLink(
        token_hash=token_hash(token),
        asset_id=asset.id,
        channel=data.channel,
        expires_at=expires_at,
        password_hash=hash_password(data.password) if data.password else None,
        created_by=actor.id,
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        action="share.created",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset.id,
        details={
            "link_id": link.id,
            "channel": link.channel,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "password": link.password_hash is not None,
        },
    )
    session.commit()
    session.refresh(link)
    return CreatedShare(link=link, token=token)


def list_shares(session: Session, asset_id: str) -> list[ShareLink]:
    """Every link of an asset, newest first (revoked and expired ones too)."""
    get_asset(session, asset_id)
    return list(
        session.exec(
            select(ShareLink)
            .where(ShareLink.asset_id == asset_id)
            .order_by(col(ShareLink.created_at).desc(), col(ShareLink.id).desc())
        )
    )


def get_share(session: Session, link_id: str) -> ShareLink:
    link = session.get(ShareLink, link_id)
    if link is None:
        raise NotFound("There is no share link with this id.")
    return link


def revoke_share(session: Session, *, link_id: str, actor: User) -> ShareLink:
    """Stop a link for good. Revoking twice changes nothing."""
    link = get_share(session, link_id)
    if link.revoked_at is not None:
        return link
    link.revoked_at = clock.now()
    link.revoked_by = actor.id
    session.add(link)
    audit.record(
        session,
        action="share.revoked",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=link.asset_id,
        details={"link_id": link.id, "channel": link.channel},
    )
    session.commit()
    session.refresh(link)
    return link


# --- serving ------------------------------------------------------------------------------


def resolve(session: Session, token: str) -> ShareLink:
    """The link a public token names, while it is neither revoked nor expired."""
    link = None
    if TOKEN_PATTERN.match(token):
        link = session.exec(
            select(ShareLink).where(ShareLink.token_hash == token_hash(token))
        ).first()
    # Consent evidence is never shared; a link to it (made before it became evidence)
    # answers as if it did not exist, so the public cannot learn that it does.
    asset = session.get(Asset, link.asset_id) if link is not None else None
    if link is None or asset is None or asset.restricted:
        raise NotFound("This link does not exist. Check that it was copied completely.")
    state = state_of(link)
    if state == "revoked":
        raise Gone("This link was withdrawn by whoever shared it.", reason="revoked")
    if state == "expired":
        raise Gone("This link has expired.", reason="expired", at=link.expires_at)
    return link


def password_ok(link: ShareLink, password: str) -> bool:
    """Whether `password` opens `link` (always true for a link without one)."""
    if link.password_hash is None:
        return True
    return bool(password) and verify_password(link.password_hash, password)


def open_share(
    session: Session,
    token: str,
    *,
    unlocked: Callable[[ShareLink], bool],
    settings: Settings,
    lang: str,
) -> OpenedShare:
    """Whether a public token opens its link now, checked in the one order every public page
    keeps: the token (NotFound), revocation and expiry (Gone), the password (`locked` unless
    `unlocked(link)` says this visitor gave it), then the verdict for the link's channel
    (NotCleared, 409, with reasons that never name anyone: the public must not learn who
    is in the picture)."""
    link = resolve(session, token)
    if link.password_hash is not None and not unlocked(link):
        return OpenedShare(link=link, locked=True)
    egress.require_cleared(
        session, link.asset_id, link.channel, settings=settings, lang=lang, names_visible=False
    )
    return OpenedShare(link=link, locked=False)


def count_view(session: Session, link: ShareLink) -> None:
    """One more view; a single UPDATE, so concurrent views all count."""
    session.execute(
        update(ShareLink).where(col(ShareLink.id) == link.id).values(views=ShareLink.views + 1)
    )
    session.commit()


def shared_asset(session: Session, link: ShareLink) -> SharedAsset:
    """What the public page of a (cleared) link shows."""
    asset = get_asset(session, link.asset_id)
    view = rendition_for(session, link, "view")
    download = rendition_for(session, link, "download")
    kind = AssetKind(asset.kind)
    has_poster = kind == AssetKind.video and _rendition(session, asset.id, ("poster",)) is not None
    captions: tuple[tuple[str, str, str], ...] = ()
    if kind == AssetKind.video:
        captions = tuple(
            (c.language, c.label, c.kind)
            for c in session.exec(
                select(Caption).where(Caption.asset_id == asset.id).order_by(col(Caption.language))
            )
        )
    return SharedAsset(
        kind=kind,
        title=asset.title or "",
        alt_text=asset.alt_text or "",
        credit=credit_line(asset),
        licence=str((asset.licence or {}).get("terms") or ""),
        width=view.width,
        height=view.height,
        view_mime=view.mime,
        download_mime=download.mime,
        download_size=download.size,
        has_poster=has_poster,
        captions=captions,
    )


def credit_line(asset: Asset) -> str:
    """Whom to credit: the licence's credit line, else the embedded credit or creator,
    with the copyright notice when there is one."""
    licence: dict[str, Any] = asset.licence or {}
    meta: dict[str, Any] = asset.meta or {}
    credit = next(
        (str(v) for v in (licence.get("credit"), meta.get("credit"), meta.get("creator")) if v),
        "",
    )
    rights = str(meta.get("copyright") or "")
    if rights and rights not in credit:
        return f"{credit} · {rights}" if credit else rights
    return credit


def rendition_for(session: Session, link: ShareLink, variant: Variant) -> Rendition:
    """The file a link hands out: its display size, the video's poster, or the channel's
    download (the same rendition the API's download picks)."""
    asset = get_asset(session, link.asset_id)
    if variant == "download":
        return egress.download_rendition(session, asset)
    names = ("poster",) if variant == "poster" else VIEW_RENDITIONS.get(AssetKind(asset.kind), ())
    found = _rendition(session, asset.id, names)
    if found is None:
        raise NotFound("This file is not available (yet).")
    return found


def caption_vtt(session: Session, link: ShareLink, language: str) -> str:
    caption = session.exec(
        select(Caption).where(Caption.asset_id == link.asset_id, Caption.language == language)
    ).first()
    if caption is None:
        raise NotFound("There are no captions in this language.")
    return caption.vtt


def download_filename(session: Session, link: ShareLink, rendition: Rendition) -> str:
    asset = get_asset(session, link.asset_id)
    stem = asset.filename.rsplit(".", 1)[0] or "beeldbank"
    return f"{stem}-{link.channel}.{rendition.path.rsplit('.', 1)[-1]}"


def _rendition(session: Session, asset_id: str, names: tuple[str, ...]) -> Rendition | None:
    found = {
        r.name: r
        for r in session.exec(
            select(Rendition).where(Rendition.asset_id == asset_id, col(Rendition.name).in_(names))
        )
    }
    return next((found[n] for n in names if n in found), None)


# --- what the public is told --------------------------------------------------------------

_PERSON_TEXT = {
    "nl": "Niet iedereen op dit beeld heeft geldige toestemming gegeven voor {channel}.",
    "en": "Not everyone in this picture has given valid consent for {channel}.",
}
_REVIEW_TEXT = {
    "nl": "Dit beeld moet nog nagekeken worden op de personen die erop staan.",
    "en": "This picture still has to be checked for the people in it.",
}
_PENDING_TEXT = {
    "nl": "Dit beeld is nog niet klaar om te delen.",
    "en": "This picture is not ready to be shared yet.",
}


def public_reasons(reasons: list[dict[str, Any]], *, channel: str, lang: str) -> list[str]:
    """Why a link does not serve, for anyone who opens it: reasons about people become
    one sentence that names nobody (not even how they fail), the rest keep their text."""
    lang = lang if lang in _PERSON_TEXT else "nl"
    texts: list[str] = []
    for reason in reasons:
        code = str(reason.get("code", ""))
        if reason.get("person_id") or code in PERSON_CODES:
            text = _PERSON_TEXT[lang].format(channel=channel_label(channel, lang))
        elif code in REVIEW:
            text = _REVIEW_TEXT[lang]
        else:
            text = str(reason.get("message") or "")
        if text and text not in texts:
            texts.append(text)
    return texts or [_PENDING_TEXT[lang]]
