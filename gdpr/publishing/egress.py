"""What may leave the system: the check every exit (download, share link, embed,
original, large renditions) makes against the verdict."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, col, select

from dam import audit
from dam.assets import get_asset, get_visible_asset
from dam.auth import has_permission
from dam.errors import N_, InvalidInput, NotCleared, join_messages
from dam.models import (
    Asset,
    AssetKind,
    AssetStatus,
    Person,
    Rendition,
    User,
    VerdictStatus,
)
from dam.presets import web_versions_down_from
from dam.settings import Settings
from gdpr.judgement import verdicts
from gdpr.judgement.verdict import Verdict
from gdpr.judgement.verdict_text import channel_label, describe

# Renditions the application shows on its own pages (grid, asset page, player). Every
# other file (large, full-HD video, the original) counts as leaving the system.
DISPLAY_RENDITIONS = frozenset(
    {"thumb", "preview", "poster", "storyboard", "storyboard_vtt", "web_720"}
)
# Within the organisation: what a rendition or original download is judged against.
INTERNAL = "internal"
BYPASS = "assets.any_verdict"

# Reasons a refusal leaves out: they explain a clearance, not a refusal.
NOT_IN_THE_WAY = frozenset({"no_people"})
# Best file for each kind, first that exists.
DOWNLOAD_ORDER = {
    AssetKind.image: ("large", "preview"),
    AssetKind.video: ("web_1080", "web_720"),
}


def require_channel(settings: Settings, channel: str) -> None:
    """InvalidInput (422) unless `channel` is one of DAM_CHANNELS."""
    if channel not in settings.channel_list:
        raise InvalidInput(
            N_("Unknown channel %(channel)r. Channels are: %(channels)s."),
            params={"channel": channel, "channels": ", ".join(settings.channel_list)},
        )


def may_bypass(user: User) -> bool:
    """Privacy officers and admins see everything (their downloads are audited)."""
    return has_permission(user, BYPASS)


def require_cleared(
    session: Session,
    asset_id: str,
    channel: str,
    *,
    settings: Settings,
    lang: str = "nl",
    names_visible: bool = False,
) -> Verdict:
    """The verdict for `channel`, raising NotCleared (409) with its reasons unless cleared."""
    verdict = verdicts.current(session, asset_id, channel, settings=settings)
    if verdict is None:
        require_channel(settings, channel)
        get_asset(session, asset_id)
        raise NotCleared("This asset has no verdict yet.", channel=channel, reasons=[])
    if verdict.status != VerdictStatus.cleared:
        raise refusal(session, verdict, settings=settings, lang=lang, names_visible=names_visible)
    return verdict


def refusal(
    session: Session, verdict: Verdict, *, settings: Settings, lang: str, names_visible: bool
) -> NotCleared:
    """The 409 for a verdict that is not `cleared`, its reasons described: what stands in
    the way (and who did consent), not "No people detected", which stands in no way."""
    channel = verdict.channel
    names = person_names(session, verdict) if names_visible else {}
    reasons = [
        {
            **r.as_json(),
            "message": describe(
                r, channel=channel, lang=lang, names=names, zone=settings.default_timezone
            ),
        }
        for r in verdict.reasons
        if r.code not in NOT_IN_THE_WAY
    ]
    text = join_messages([str(r["message"]) for r in reasons])
    return NotCleared(
        N_("Not cleared for %(channel)s: %(reasons)s"),
        params={"channel": channel_label(channel, lang), "reasons": text},
        channel=channel,
        status=str(verdict.status),
        reasons=reasons,
    )


def check_file_access(
    session: Session, user: User, asset_id: str, name: str | None, *, settings: Settings
) -> None:
    """Renditions beyond what the app displays, and originals (`name` None), leave the
    system: below privacy officer they need a `cleared` verdict for internal use. Whoever
    uploaded a file may always have their own original back."""
    asset = get_visible_asset(session, asset_id, user)
    if name in DISPLAY_RENDITIONS or may_bypass(user):
        return
    if name is None and asset.owner_id == user.id:
        return
    require_cleared(session, asset_id, INTERNAL, settings=settings)


def cleared_download(
    session: Session,
    asset: Asset,
    channel: str,
    *,
    settings: Settings,
    actor: User,
    lang: str,
    names_visible: bool,
    preset: str | None = None,
) -> Rendition:
    """The rendition to hand out for `channel` once its verdict is `cleared` (NotCleared
    otherwise); the download is audited. A video's `preset` names its web version."""
    if preset is not None and preset not in DOWNLOAD_ORDER.get(AssetKind(asset.kind), ()):
        names = ", ".join(DOWNLOAD_ORDER.get(AssetKind(asset.kind), ()))
        raise InvalidInput(
            N_("Unknown preset %(preset)r for this asset. Presets are: %(presets)s."),
            params={"preset": preset, "presets": names},
        )
    require_cleared(
        session, asset.id, channel, settings=settings, lang=lang, names_visible=names_visible
    )
    rendition = download_rendition(session, asset, preset)
    audit.record(
        session,
        action="asset.downloaded",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset.id,
        details={"channel": channel, "rendition": rendition.name},
    )
    session.commit()
    return rendition


def download_rendition(session: Session, asset: Asset, preset: str | None = None) -> Rendition:
    """The best rendition to hand out for a channel (or the one `preset` names). A video
    asked in a web version it has no file for (`web_1080` of a 720p video) comes in the
    next smaller one: nothing is scaled up, as with photos."""
    if asset.status != AssetStatus.ready:
        raise NotCleared("The asset is not processed yet.", reasons=[])
    if preset:
        names = web_versions_down_from(preset) if asset.kind == AssetKind.video else (preset,)
    else:
        names = DOWNLOAD_ORDER.get(AssetKind(asset.kind), ())
    found = {
        r.name: r
        for r in session.exec(
            select(Rendition).where(Rendition.asset_id == asset.id, col(Rendition.name).in_(names))
        )
    }
    for name in names:
        if name in found:
            return found[name]
    raise NotCleared("This asset has no rendition to download yet.", reasons=[])


def video_versions(session: Session, asset: Asset) -> list[str]:
    """The web versions (`web_720`, `web_1080`) a video has a file for, smallest first:
    what a download form may offer."""
    found = set(
        session.exec(
            select(Rendition.name).where(
                Rendition.asset_id == asset.id,
                col(Rendition.name).in_(DOWNLOAD_ORDER[AssetKind.video]),
            )
        )
    )
    return [name for name in reversed(DOWNLOAD_ORDER[AssetKind.video]) if name in found]


def person_names(session: Session, verdict: Verdict) -> Mapping[str, str]:
    return names_of(session, [r.person_id for r in verdict.reasons if r.person_id])


def names_of(session: Session, person_ids: list[str]) -> dict[str, str]:
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    return dict(session.exec(select(Person.id, Person.name).where(col(Person.id).in_(ids))).all())
