"""The one gate every asset byte leaves through.

A route that sends a file (a rendition, an original, a channel download, a redacted copy,
a captioned video, captions, a face crop, a share link's media, an access export) asks
`release(...)` for it. The gate, in this order:

1. resolves who may see the asset: a restricted one (consent evidence) is a 404 exactly
   like a missing id for roles that may not see it;
2. judges the verdict for what the bytes are for: the app's own display sizes only need
   the asset to be visible; a file beyond them leaves the system and needs `cleared` for
   internal use (privacy officers and admins excepted, an uploader may have their own
   original back); a channel download needs `cleared` for that channel (or a redaction
   that clears it); a share link needs `cleared` for the link's channel, every time;
3. audits the bytes that leave (originals, downloads, redacted and captioned copies,
   caption files, share downloads, exports);
4. answers with a `Release`: the file or content, its type, name and cache policy.

Routes only translate a Release into a response (web/files.py `file_response`), and only
the gate can make one: `Release` refuses to be built without this module's seal, and
tests/test_gate_routes.py fails for a route that sends bytes any other way.

Producers that live outside gdpr (ingest builds captioned videos and caption files) are
handed in as callables and called only after the gate said yes, so nothing is built for
a request that is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlmodel import Session

from dam import audit, clock
from dam.assets import get_rendition, get_visible_asset, original_for_download
from dam.auth import check_permission, has_permission
from dam.blobs import BlobStore
from dam.errors import N_, Forbidden, Gone, InvalidInput, NotFound
from dam.models import Asset, AssetKind, User
from dam.settings import Settings
from gdpr.publishing import delivery, download_batches, egress, redaction, shares
from gdpr.recognition import faces_view, identity
from gdpr.requests import export, person_requests

# What a response may say about caching (web/files.py turns it into headers).
IMMUTABLE = "private, max-age=31536000, immutable"  # renditions: their ETag is their hash
REVALIDATE = "private, no-cache"  # may be kept, but asked again (the verdict can change)
NO_STORE = "private, no-store"  # downloads and exports: never kept by a cache
PRIVATE = "private"
# Share links: public, not for search engines, never from a cache once the link stops.
PUBLIC_LINK = (("Cache-Control", "no-store"), ("X-Robots-Tag", "noindex, nofollow"))

_SEAL = object()  # only this module can make a Release


@dataclass(frozen=True)
class Release:
    """What to send: a file (`path`) or `content`, with its media type, the name it is
    saved as (`filename`, with `disposition`), its ETag and response headers. `temporary`
    files are deleted once sent. Only `release()` makes one."""

    media_type: str
    path: Path | None = None
    content: bytes | None = None
    filename: str | None = None
    disposition: Literal["inline", "attachment"] = "attachment"
    etag: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    temporary: bool = False
    # A redacted video a job is still making (no bytes yet): the route answers 202 and
    # the client asks again.
    pending: redaction.Pending | None = None
    seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seal is not _SEAL:
            raise TypeError("A Release is made by gdpr.gate.release, never by a route.")
        if self.pending is None and (self.path is None) == (self.content is None):
            raise ValueError("A Release carries either a file or content.")


@dataclass(frozen=True)
class Payload:
    """Bytes a producer outside gdpr made once the gate said yes."""

    media_type: str
    path: Path | None = None
    content: bytes | None = None
    filename: str | None = None
    etag: str | None = None
    temporary: bool = False


# --- what is asked for --------------------------------------------------------------------


@dataclass(frozen=True)
class RenditionFile:
    """A rendition by name: the app's display sizes, or a larger one (internal use)."""

    asset_id: str
    name: str


@dataclass(frozen=True)
class OriginalFile:
    asset_id: str


@dataclass(frozen=True)
class ChannelDownload:
    """A file for a channel: a photo in a preset (size, crop, format; metadata written),
    a video's web version; with `redact` the faces not cleared for it blurred."""

    asset_id: str
    channel: str
    redact: bool = False
    options: delivery.Options | None = None  # None: the preset `large` (videos: best)
    # A video with its captions built in (ingest makes it, once the gate said yes).
    captioned: Callable[[], Path] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DownloadArchive:
    """A selection packed as one ZIP (every file in it went through this gate)."""

    batch_id: str


@dataclass(frozen=True)
class CaptionedVideo:
    """A web version with its captions built in: a file to take away (internal use)."""

    asset_id: str
    name: str
    languages: tuple[str, ...]
    build: Callable[[], Path] = field(compare=False)


@dataclass(frozen=True)
class CaptionFile:
    """Captions as WebVTT (the player's track: display) or SRT (a file to take away)."""

    asset_id: str
    language: str
    fmt: Literal["vtt", "srt"]
    build: Callable[[], Payload] = field(compare=False)


@dataclass(frozen=True)
class FaceCrop:
    face_id: str


@dataclass(frozen=True)
class SharedFile:
    """A share link's picture or video as its page shows it, its poster, or its download."""

    variant: shares.Variant


@dataclass(frozen=True)
class SharedCaptions:
    language: str


@dataclass(frozen=True)
class PersonExport:
    """Everything held about a person (access request, GDPR art. 15)."""

    person_id: str


@dataclass(frozen=True)
class PreparedExport:
    """An access export an officer started as a job: downloadable for 24 hours."""

    job_id: str


Ask = (
    RenditionFile
    | OriginalFile
    | ChannelDownload
    | DownloadArchive
    | CaptionedVideo
    | CaptionFile
    | FaceCrop
    | SharedFile
    | SharedCaptions
    | PersonExport
    | PreparedExport
)
# Who asks: a signed-in user, or a visitor holding a share link that opened (token valid,
# password given): gdpr.publishing.shares.open_share says so.
Requester = User | shares.OpenedShare


def release(
    session: Session,
    ask: Ask,
    *,
    by: Requester,
    settings: Settings,
    blobs: BlobStore,
    lang: str = "nl",
) -> Release:
    """The bytes `by` may have for `ask`, judged and audited; NotFound (404), NotCleared
    (409, with reasons) or Forbidden otherwise."""
    if isinstance(ask, SharedFile | SharedCaptions):
        if not isinstance(by, shares.OpenedShare):
            raise Forbidden("Share-link files are for share links.")
        return _shared(session, ask, _open(session, by, settings, lang), blobs)
    if not isinstance(by, User):
        raise NotFound("There is no asset with this id.")  # a link opens its own asset only
    if isinstance(ask, RenditionFile):
        return _rendition(session, ask, by, settings, blobs)
    if isinstance(ask, OriginalFile):
        return _original(session, ask, by, settings, blobs)
    if isinstance(ask, ChannelDownload):
        return _download(session, ask, by, settings, blobs, lang)
    if isinstance(ask, DownloadArchive):
        return _archive(session, ask, by, blobs)
    if isinstance(ask, CaptionedVideo):
        return _captioned(session, ask, by, settings)
    if isinstance(ask, CaptionFile):
        return _captions(session, ask, by, settings)
    if isinstance(ask, FaceCrop):
        return _face_crop(session, ask, by, blobs)
    if isinstance(ask, PersonExport):
        return _export(session, ask, by, blobs)
    if isinstance(ask, PreparedExport):
        return _prepared(session, ask, by, blobs)
    raise TypeError(f"The gate does not know what {type(ask).__name__} is for.")


def _sealed(**values: object) -> Release:
    return Release(seal=_SEAL, **values)  # type: ignore[arg-type]


def _leaves(session: Session, asset: Asset, user: User, settings: Settings) -> None:
    """A file beyond the app's display sizes leaves the system: `cleared` for internal use
    unless the user may pass any verdict."""
    if not egress.may_bypass(user):
        egress.require_cleared(session, asset.id, egress.INTERNAL, settings=settings)


def _audit(
    session: Session, action: str, user: User | None, asset_id: str, **details: object
) -> None:
    audit.record(
        session,
        action=action,
        actor_id=user.id if user else None,
        subject_type="asset",
        subject_id=asset_id,
        details=dict(details),
    )
    session.commit()


def _stem(asset: Asset) -> str:
    return asset.filename.rsplit(".", 1)[0] or asset.id


# --- signed-in users ----------------------------------------------------------------------


def _rendition(
    session: Session, ask: RenditionFile, user: User, settings: Settings, blobs: BlobStore
) -> Release:
    get_visible_asset(session, ask.asset_id, user)
    rendition = get_rendition(session, ask.asset_id, ask.name)
    egress.check_file_access(session, user, ask.asset_id, ask.name, settings=settings)
    return _sealed(
        media_type=rendition.mime,
        path=blobs.root / rendition.path,
        etag=f'"{rendition.sha256}"',
        headers=(("Cache-Control", IMMUTABLE),),
    )


def _original(
    session: Session, ask: OriginalFile, user: User, settings: Settings, blobs: BlobStore
) -> Release:
    egress.check_file_access(session, user, ask.asset_id, None, settings=settings)
    asset, path = original_for_download(session, asset_id=ask.asset_id, actor=user, blobs=blobs)
    return _sealed(
        media_type=asset.mime,
        path=path,
        filename=asset.filename,
        etag=f'"{asset.sha256}"',
        headers=(("Cache-Control", REVALIDATE),),
    )


def _download(
    session: Session,
    ask: ChannelDownload,
    user: User,
    settings: Settings,
    blobs: BlobStore,
    lang: str,
) -> Release:
    asset = get_visible_asset(session, ask.asset_id, user)
    names_visible = has_permission(user, "people.read")
    if AssetKind(asset.kind) == AssetKind.image:
        made = delivery.deliver_photo(
            session,
            blobs,
            asset,
            ask.channel,
            ask.options or delivery.Options(),
            redact=ask.redact,
            settings=settings,
            actor=user,
            lang=lang,
            names_visible=names_visible,
        )
        return _sealed(
            media_type=made.mime,
            path=made.path,
            filename=made.filename,
            headers=(("Cache-Control", NO_STORE),),
            temporary=True,
        )
    preset = ask.options.preset if ask.options else None
    if ask.captioned is not None:
        return _captioned_download(session, ask, asset, user, settings, lang, preset)
    if ask.redact:
        result = redaction.redacted_download(
            session, blobs, asset, ask.channel, settings=settings, actor=user, lang=lang
        )
        if isinstance(result, redaction.Pending):  # a video: a job makes it, ask again
            return _sealed(media_type="application/json", pending=result)
        return _sealed(
            media_type=result.mime,
            path=result.path,
            filename=result.filename,
            headers=(("Cache-Control", NO_STORE),),
        )
    rendition = egress.cleared_download(
        session,
        asset,
        ask.channel,
        settings=settings,
        actor=user,
        lang=lang,
        names_visible=names_visible,
        preset=preset,
    )
    ext = rendition.path.rsplit(".", 1)[-1]
    return _sealed(
        media_type=rendition.mime,
        path=blobs.root / rendition.path,
        filename=f"{_stem(asset)}-{ask.channel}.{ext}",
        headers=(("Cache-Control", NO_STORE),),
    )


def _captioned_download(
    session: Session,
    ask: ChannelDownload,
    asset: Asset,
    user: User,
    settings: Settings,
    lang: str,
    preset: str | None,
) -> Release:
    """A video's web version for a channel with its captions built in."""
    assert ask.captioned is not None
    if preset not in (None, *egress.DOWNLOAD_ORDER[AssetKind.video]):
        raise InvalidInput(
            N_("Unknown preset %(preset)r for a video: %(presets)s."),
            params={"preset": preset, "presets": ", ".join(egress.DOWNLOAD_ORDER[AssetKind.video])},
        )
    if ask.redact:
        raise InvalidInput("A blurred video comes without built-in captions; leave captions out.")
    egress.require_channel(settings, ask.channel)
    egress.require_cleared(
        session,
        asset.id,
        ask.channel,
        settings=settings,
        lang=lang,
        names_visible=has_permission(user, "people.read"),
    )
    path = ask.captioned()
    try:
        # The web version sent: a 720p video has no web_1080 and sends its web_720.
        sent = egress.download_rendition(session, asset, preset or "web_1080")
        _audit(
            session,
            "asset.downloaded",
            user,
            asset.id,
            channel=ask.channel,
            rendition=sent.name,
            captions=True,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _sealed(
        media_type="video/mp4",
        path=path,
        filename=f"{_stem(asset)}-{ask.channel}-captioned.mp4",
        headers=(("Cache-Control", NO_STORE),),
        temporary=True,
    )


def _archive(session: Session, ask: DownloadArchive, user: User, blobs: BlobStore) -> Release:
    """Only whoever asked for the ZIP gets it (404 for anyone else), while it is kept."""
    batch, path = download_batches.finished_file(session, blobs, ask.batch_id, user)
    _audit(session, "download.archive_fetched", user, batch.id, assets=batch.included)
    return _sealed(
        media_type="application/zip",
        path=path,
        filename=f"beeldbank-{batch.channel}-{batch.id}.zip",
        headers=(("Cache-Control", NO_STORE),),
    )


def _captioned(session: Session, ask: CaptionedVideo, user: User, settings: Settings) -> Release:
    asset = get_visible_asset(session, ask.asset_id, user)
    _leaves(session, asset, user, settings)
    path = ask.build()
    try:
        _audit(
            session,
            "asset.captioned_downloaded",
            user,
            asset.id,
            rendition=ask.name,
            languages=list(ask.languages),
        )
    except BaseException:
        path.unlink(missing_ok=True)  # built for nobody
        raise
    return _sealed(
        media_type="video/mp4",
        path=path,
        filename=f"{asset.id}-{ask.name}-captioned.mp4",
        headers=(("Cache-Control", NO_STORE),),
        temporary=True,
    )


def _captions(session: Session, ask: CaptionFile, user: User, settings: Settings) -> Release:
    asset = get_visible_asset(session, ask.asset_id, user)
    if ask.fmt != "vtt":  # the player's track is display; an SRT file is taken away
        _leaves(session, asset, user, settings)
    made = ask.build()
    if ask.fmt != "vtt":
        _audit(session, "asset.captions_downloaded", user, asset.id, language=ask.language)
    return _from_payload(
        made,
        disposition="inline" if ask.fmt == "vtt" else "attachment",
        headers=(("Cache-Control", REVALIDATE),),
    )


def _from_payload(
    made: Payload,
    *,
    disposition: Literal["inline", "attachment"],
    headers: tuple[tuple[str, str], ...],
) -> Release:
    return _sealed(
        media_type=made.media_type,
        path=made.path,
        content=made.content,
        filename=made.filename,
        disposition=disposition,
        etag=made.etag,
        headers=headers,
        temporary=made.temporary,
    )


def _face_crop(session: Session, ask: FaceCrop, user: User, blobs: BlobStore) -> Release:
    face = identity.get_face(session, ask.face_id)
    try:
        get_visible_asset(session, face.asset_id, user)
    except NotFound:
        raise NotFound("There is no face with this id.") from None
    path = faces_view.crop_path(session, blobs, face.id)
    return _sealed(media_type="image/jpeg", path=path, headers=(("Cache-Control", PRIVATE),))


def _export(session: Session, ask: PersonExport, user: User, blobs: BlobStore) -> Release:
    check_permission(user, "privacy.export")
    result = export.export_person(session, person_id=ask.person_id, actor=user, blobs=blobs)
    return _sealed(
        media_type="application/zip",
        path=result.path,
        filename=result.filename,
        headers=(("Cache-Control", NO_STORE),),
        temporary=True,
    )


def _prepared(session: Session, ask: PreparedExport, user: User, blobs: BlobStore) -> Release:
    check_permission(user, "privacy.export")
    path, filename, person_id = person_requests.prepared_export(session, blobs, ask.job_id)
    audit.record(
        session,
        action="person.export_downloaded",
        actor_id=user.id,
        subject_type="person",
        subject_id=person_id,
        details={"job_id": ask.job_id},
    )
    session.commit()
    # Kept (not temporary): it may be fetched again until it expires.
    return _sealed(
        media_type="application/zip",
        path=path,
        filename=filename,
        headers=(("Cache-Control", NO_STORE),),
    )


# --- share links --------------------------------------------------------------------------


def _open(
    session: Session, opened: shares.OpenedShare, settings: Settings, lang: str
) -> shares.OpenedShare:
    """The link again as it is now (revoked or expired: Gone), still `cleared` for its
    channel (the reasons name nobody: the public must not learn who is in the picture)."""
    if opened.locked:
        raise Forbidden("This link needs its password first.")
    link = session.get(type(opened.link), opened.link.id)
    if link is None:
        raise NotFound("This link does not exist. Check that it was copied completely.")
    state = shares.state_of(link, clock.now())
    if state != "active":
        raise Gone("This link no longer works.", reason=state)
    egress.require_cleared(
        session, link.asset_id, link.channel, settings=settings, lang=lang, names_visible=False
    )
    return shares.OpenedShare(link=link, locked=False)


def _shared(
    session: Session, ask: SharedFile | SharedCaptions, opened: shares.OpenedShare, blobs: BlobStore
) -> Release:
    link = opened.link
    if isinstance(ask, SharedCaptions):
        vtt = shares.caption_vtt(session, link, ask.language)
        return _sealed(
            media_type="text/vtt; charset=utf-8", content=vtt.encode(), headers=PUBLIC_LINK
        )
    rendition = shares.rendition_for(session, link, ask.variant)
    filename = None
    if ask.variant == "download":
        filename = shares.download_filename(session, link, rendition)
        _audit(
            session,
            "share.downloaded",
            None,
            link.asset_id,
            link_id=link.id,
            channel=link.channel,
            rendition=rendition.name,
        )
    return _sealed(
        media_type=rendition.mime,
        path=blobs.root / rendition.path,
        filename=filename,
        headers=PUBLIC_LINK,
    )
