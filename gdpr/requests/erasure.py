"""Erasure (GDPR art. 17): the person, their biometric data and crops, their consents'
personal fields and evidence, and the pictures they are on (deleted or redacted, as the
privacy officer chooses) go; an ErasureTombstone and an audit entry with ids only stay.

Copies kept for a while outside the library go with them: selection ZIPs holding
their pictures or naming them, and their access exports (gdpr/requests/erasure_copies.py).

Everything in the database happens in one transaction; files are removed after it
commits (a failed erasure leaves nothing half done in the database), and search has
purged them before the call returns (the tombstone makes the change feed purge every
asset the transaction touched, drained at once). The photos and videos to redact are
blurred before that transaction, with none open, one at a time with the progress written
after each (gdpr/requests/erasure_redaction.py, erasure_videos.py): the transaction only
swaps the prepared files in. It reads what it erases under a lock (SQLite's write lock,
taken at BEGIN; PostgreSQL's on the person's row, which a face confirmed meanwhile waits
for), so a photo confirmed while the others were blurred is seen there and prepared too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select, update

from dam import audit, erasure_ledger, events, jobs
from dam.assets import remove_asset_rows, unused_originals
from dam.blobs import BlobStore
from dam.chunks import chunks
from dam.clock import now
from dam.errors import InvalidInput, ProcessingError
from dam.models import (
    Asset,
    AssetTag,
    Consent,
    ErasureTombstone,
    Face,
    FaceState,
    Notification,
    Person,
    User,
)
from dam.settings import Settings
from dam.wiring import runtime_of
from gdpr.judgement import verdicts
from gdpr.publishing import redaction
from gdpr.recognition import embeddings, person_suggestions
from gdpr.recognition.identity import get_person
from gdpr.requests import (
    erasure_copies,
    erasure_originals,
    erasure_redaction,
    erasure_staging,
    erasure_videos,
)

log = logging.getLogger(__name__)

ERASED = "erased"  # the dismiss reason of a face whose person was erased
PLACEHOLDER = "[…]"  # what the name becomes in titles, descriptions and alt texts
# How often pictures are blurred again when they changed while being blurred.
PREPARE_ROUNDS = 3


class AssetsChoice(StrEnum):
    """What happens to the photos and videos the person was confirmed on."""

    redact = "redact"  # their face blurred into the original and every rendition; the asset stays
    delete = "delete"  # the asset, its original and every derived file go


@dataclass(frozen=True)
class ErasureSummary:
    tombstone_id: str
    person_id: str
    assets: AssetsChoice
    assets_deleted: list[str]
    assets_redacted: list[str]
    videos_reencoded: list[str]  # of those, videos: a new original, renditions made again
    evidence_deleted: list[str]
    downloads_withdrawn: list[str]  # selection ZIPs removed before their day was over
    exports_deleted: list[str]  # the person's access exports waiting for their download
    faces: int
    embeddings: int
    crops: int
    consents: int
    rejudged: int
    texts_scrubbed: int


@dataclass
class _Files:
    """Files to remove once the transaction committed."""

    paths: list[Path] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    originals: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)  # assets with redacted downloads
    jobs: list[str] = field(default_factory=list)  # to enqueue once the files are gone

    def remove(self, blobs: BlobStore) -> None:
        for path in self.paths:
            path.unlink(missing_ok=True)
        for asset_id in self.derived:
            blobs.delete_derived(asset_id)
        for sha in self.originals:
            blobs.delete_original(sha)
        # A redacted download made before shows whoever was cleared then.
        for asset_id in self.cached:
            redaction.forget(blobs, asset_id)


def parse_choice(value: str) -> AssetsChoice:
    try:
        return AssetsChoice(value)
    except ValueError:
        raise InvalidInput(
            "Say what happens to the pictures the person is on: assets=redact or assets=delete."
        ) from None


@dataclass
class _Prepared:
    """What an erasure blurred before its transaction."""

    videos: erasure_videos.Prepared = field(default_factory=erasure_videos.Prepared)
    photos: erasure_redaction.Prepared = field(default_factory=erasure_redaction.Prepared)
    placement: erasure_staging.Placement = field(default_factory=erasure_staging.Placement)

    def discard_unused(self, session: Session, blobs: BlobStore) -> None:
        """Remove what no asset took; ends the session's transaction."""
        self.photos.discard()
        self.videos.discard()
        self.placement.discard_unused(session, blobs)


class _NotPrepared(Exception):
    """The erasure needs blurred pictures that are not made yet (or no longer fit)."""

    def __init__(
        self,
        videos: Sequence[erasure_videos.VideoPlan],
        photos: Sequence[erasure_redaction.PhotoPlan],
        *,
        ready: int,
        name: str,
    ) -> None:
        super().__init__(f"{len(videos)} video(s) and {len(photos)} photo(s) to blur first")
        self.videos, self.photos = list(videos), list(photos)
        self.ready = ready  # the pictures to redact that are prepared already
        self.name = name


def erase_person(
    session: Session,
    *,
    person_id: str,
    assets: AssetsChoice,
    actor: User,
    blobs: BlobStore,
    settings: Settings,
    progress: Callable[[float], None] = lambda _done: None,
    recount: Callable[[int], None] = lambda _files: None,
) -> ErasureSummary:
    """Erase one person; every affected verdict is recomputed and search has forgotten
    them when this returns. With `redact`, the photos and videos they are on are blurred
    first, one at a time, with no transaction open: `progress` hears how many of the files
    (`files_of`) are done after each (a video also in part while it is blurred), and
    `recount` how many there are when that changed meanwhile (a photo of them confirmed
    while the others were blurred). With `delete`, the files go at the commit."""
    prepared = _Prepared()
    try:
        for _round in range(PREPARE_ROUNDS):
            try:
                return _erase(
                    session,
                    person_id=person_id,
                    assets=assets,
                    actor=actor,
                    blobs=blobs,
                    settings=settings,
                    prepared=prepared,
                )
            except _NotPrepared as needed:
                # Nothing is written yet; the blurring runs without a transaction (and, on
                # SQLite, without the write lock everyone else needs meanwhile: the job's
                # progress too).
                session.rollback()
                _prepare(session, blobs, needed, prepared, progress, recount)
        raise ProcessingError(
            "The pictures this person is on kept changing while they were being blurred. "
            "Nothing was erased; start the erasure again."
        )
    except BaseException:
        session.rollback()
        raise
    finally:
        prepared.discard_unused(session, blobs)


def _prepare(
    session: Session,
    blobs: BlobStore,
    needed: _NotPrepared,
    prepared: _Prepared,
    progress: Callable[[float], None],
    recount: Callable[[int], None],
) -> None:
    recount(needed.ready + len(needed.videos) + len(needed.photos))
    done = needed.ready
    if needed.videos:
        wiring = runtime_of(session).wiring
        prepared.videos.make(
            needed.videos,
            blobs=blobs,
            wiring=wiring,
            name=needed.name,
            progress=lambda number: progress(done + number),
        )
    done += len(needed.videos)
    prepared.photos.make(
        needed.photos, blobs=blobs, progress=lambda number: progress(done + number)
    )


def files_of(session: Session, person_id: str) -> int:
    """How many photos and videos an erasure processes: those the person is confirmed
    on (blurred or deleted), their signed forms aside (deleted whatever the choice)."""
    found = session.exec(
        select(func.count(func.distinct(Face.asset_id)))
        .join(Asset, col(Asset.id) == col(Face.asset_id))
        .where(
            Face.person_id == person_id,
            Face.state == FaceState.confirmed,
            col(Asset.is_evidence).is_(False),
        )
    ).one()
    return int(found)


def _erase(
    session: Session,
    *,
    person_id: str,
    assets: AssetsChoice,
    actor: User,
    blobs: BlobStore,
    settings: Settings,
    prepared: _Prepared,
) -> ErasureSummary:
    # Whoever confirms a face as theirs meanwhile waits for this transaction (PostgreSQL:
    # the face's reference to the person needs its row; SQLite: BEGIN IMMEDIATE took the
    # write lock already), and then finds them gone: what is read here is all there is.
    session.exec(select(Person.id).where(Person.id == person_id).with_for_update()).first()
    person = get_person(session, person_id)
    name = person.name
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Deleted and overwritten rows are zeroed in the file, not just unlinked.
        session.execute(text("PRAGMA secure_delete=ON"))
    faces = list(session.exec(select(Face).where(Face.person_id == person_id)))
    face_ids = [f.id for f in faces]
    consents = list(session.exec(select(Consent).where(Consent.person_id == person_id)))
    evidence_ids = sorted({c.evidence_asset_id for c in consents if c.evidence_asset_id})
    # A signed form is deleted whatever the choice, so it is not redacted first.
    confirmed = [
        f for f in faces if f.state == FaceState.confirmed and f.asset_id not in evidence_ids
    ]
    on_assets = sorted({f.asset_id for f in confirmed})
    also_on = sorted({f.asset_id for f in faces} - {*on_assets, *evidence_ids})
    videos: list[erasure_videos.VideoPlan] = []
    photos: list[erasure_redaction.PhotoPlan] = []
    if assets == AssetsChoice.redact:
        videos = erasure_videos.plan_videos(session, confirmed)
        photos = erasure_redaction.plan_photos(session, confirmed)
        missing_videos = prepared.videos.missing(videos)
        missing_photos = prepared.photos.missing(photos)
        if missing_videos or missing_photos:  # before anything is written
            ready = len(videos) + len(photos) - len(missing_videos) - len(missing_photos)
            raise _NotPrepared(missing_videos, missing_photos, ready=ready, name=name)
    files = _Files()

    # Biometric data first: the embeddings of every face linked to them, suggested ones
    # too (conservatively: they may well be theirs).
    embedding_count = embeddings.delete_for_faces(session, face_ids)
    # And the opened copies this process keeps for library-wide searches (other workers
    # drop theirs at their next search: gone rows are not kept).
    person_suggestions.forget_opened(session)

    crops = 0
    deleted: list[str] = []
    redacted: list[str] = []
    if assets == AssetsChoice.delete:
        deleted = on_assets
        _delete_assets(session, deleted, files)
        faces = [f for f in faces if f.asset_id not in set(deleted)]
    else:
        redacted, removed, crops = _redact(
            session, blobs, confirmed, files, videos, photos, prepared
        )
        faces = [f for f in faces if f.id not in removed]
    moment = now()
    for face in faces:
        if face.crop_path and face.state == FaceState.confirmed:
            files.paths.append(blobs.root / face.crop_path)
            crops += 1
            face.crop_path = None
        if face.state == FaceState.confirmed:
            # Blurred (or about to be): no one recognisable, so it no longer counts.
            face.state, face.dismiss_reason = FaceState.dismissed, ERASED
            face.decided_by, face.decided_at = actor.id, moment
        elif face.state == FaceState.suggested:
            face.state = FaceState.unknown  # back to the review queue, without the guess
        face.person_id, face.distance = None, None
        face.updated_at = moment
        session.add(face)
    session.exec(
        update(Face).where(col(Face.not_person_id) == person_id).values(not_person_id=None)
    )

    # Consents stay as anonymous facts (channels, dates); the personal fields go, and the
    # signed form (an asset of its own) is deleted entirely.
    for consent in consents:
        consent.person_id = None
        consent.guardian_name = None
        consent.notes = ""
        consent.withdrawn_reason = None
        consent.evidence_asset_id = None
        session.add(consent)
    session.flush()
    _delete_assets(session, evidence_ids, files)

    scrubbed = _scrub_name(session, name, [*redacted, *also_on])
    # A redacted original was re-encoded without metadata; the others may still carry
    # the name in their IPTC/XMP/EXIF (a caption, keywords, PersonInImage, face regions).
    replaced = erasure_originals.scrub_originals(session, blobs, name, also_on)
    files.originals.extend(replaced.values())
    rewritten = sorted(replaced)
    copies = erasure_copies.withdraw_copies(
        session,
        blobs,
        person_id=person_id,
        asset_ids={*deleted, *redacted, *also_on, *evidence_ids},
        name=name,
        pattern=name_pattern(name) if name.strip() else None,
    )
    files.paths.extend(copies.paths)
    session.exec(
        delete(Notification).where(
            col(Notification.subject_type) == "person", col(Notification.subject_id) == person_id
        )
    )
    session.delete(session.get(Person, person_id))
    session.flush()

    remaining = [*redacted, *also_on]
    rejudged = verdicts.refresh(session, remaining, settings=settings)
    tombstone = ErasureTombstone(
        person_id=person_id,
        executed_by=actor.id,
        executed_at=moment,
        assets="deleted" if assets == AssetsChoice.delete else "redacted",
        asset_count=len(deleted) + len(redacted),
        face_count=len(face_ids),
    )
    session.add(tombstone)
    session.flush()
    # Ids and counts only: the chain keeps the fact, never the person.
    audit.record(
        session,
        action="person.erased",
        actor_id=actor.id,
        subject_type="person",
        subject_id=person_id,
        details={
            "tombstone_id": tombstone.id,
            "assets": assets.value,
            "assets_deleted": deleted,
            "assets_redacted": redacted,
            "videos_reencoded": [v.asset_id for v in videos],
            "evidence_deleted": evidence_ids,
            "faces": len(face_ids),
            "embeddings": embedding_count,
            "consents": [c.id for c in consents],
            "originals_rewritten": rewritten,
            "downloads_withdrawn": copies.downloads,
            "exports_deleted": copies.exports,
        },
    )
    for asset_id in [*deleted, *evidence_ids]:
        events.publish_after_commit(session, events.AssetDeleted(asset_id=asset_id))
    affected = tuple(dict.fromkeys([*deleted, *redacted, *also_on, *evidence_ids]))
    events.publish_after_commit(
        session, events.PersonErased(person_id=person_id, asset_ids=affected)
    )
    files.cached.extend(affected)
    # An original a remaining asset shares (a form and a photo with the same bytes) stays.
    files.originals = unused_originals(session, files.originals)
    # The blurred files go into place only now: until here a crash leaves temp files only.
    prepared.placement.settle(blobs)
    session.commit()
    # Outside the database: a restore from an older backup erases them again.
    erasure_ledger.append(settings.erasure_ledger_path, erasure_ledger.entry_for(tombstone))
    files.remove(blobs)
    jobs.enqueue_now(session, files.jobs)  # the pipeline of the re-encoded videos
    if sqlite:
        _checkpoint(session)
    log.info("person %s erased (tombstone %s)", person_id, tombstone.id)
    return ErasureSummary(
        tombstone_id=tombstone.id,
        person_id=person_id,
        assets=assets,
        assets_deleted=deleted,
        assets_redacted=redacted,
        videos_reencoded=[v.asset_id for v in videos],
        evidence_deleted=evidence_ids,
        downloads_withdrawn=copies.downloads,
        exports_deleted=copies.exports,
        faces=len(face_ids),
        embeddings=embedding_count,
        crops=crops,
        consents=len(consents),
        rejudged=rejudged,
        texts_scrubbed=scrubbed,
    )


def _checkpoint(session: Session) -> None:
    """Copy the write-ahead log into the database file and empty it: the log still holds
    page images from before the erasure."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def _delete_assets(session: Session, asset_ids: Sequence[str], files: _Files) -> None:
    for asset_id in asset_ids:
        asset = session.get(Asset, asset_id)
        if asset is None:
            continue
        files.originals.append(remove_asset_rows(session, asset))
        files.derived.append(asset_id)
    session.flush()


def _redact(
    session: Session,
    blobs: BlobStore,
    faces: Sequence[Face],
    files: _Files,
    videos: Sequence[erasure_videos.VideoPlan],
    photos: Sequence[erasure_redaction.PhotoPlan],
    prepared: _Prepared,
) -> tuple[list[str], set[str], int]:
    """Swap the prepared blurred files of these faces' assets in (photos: their original
    and renditions; videos: their original, and their pipeline again): the ids of those
    assets, the faces deleted with them (the person's video tracks) and how many crops
    those had."""
    by_asset: dict[str, list[Face]] = {}
    for face in faces:
        by_asset.setdefault(face.asset_id, []).append(face)
    if not by_asset:
        return [], set(), 0
    assets = [a for a in (session.get(Asset, i) for i in sorted(by_asset)) if a is not None]
    plans = {p.asset_id: p for p in videos}
    photo_plans = {p.asset_id: p for p in photos}
    removed: set[str] = set()
    crops = 0
    for asset in assets:
        plan = plans.get(asset.id)
        if plan is None:
            done = erasure_redaction.apply(
                session, asset, photo_plans[asset.id], prepared.photos, prepared.placement
            )
            files.originals.append(done.old_original)
            continue
        applied = erasure_videos.apply(
            session, blobs, asset, by_asset[asset.id], prepared.videos[plan], prepared.placement
        )
        files.originals.append(applied.old_original)
        files.paths.extend(applied.paths)
        files.jobs.extend([applied.job_id] if applied.job_id else [])
        removed |= applied.removed_faces
        crops += applied.crops
    return [a.id for a in assets], removed, crops


def _scrub_name(session: Session, name: str, asset_ids: Iterable[str]) -> int:
    """Replace the name in the titles, descriptions, alt texts and embedded metadata
    (EXIF/IPTC/XMP captions, keywords, people shown) of the assets the person was on, and
    drop tags that are the name; how many fields changed."""
    ids = list(asset_ids)
    if not ids or not name.strip():
        return 0
    pattern = name_pattern(name)
    changed = 0
    for chunk in chunks(ids):
        # Every asset is read, not only those a LIKE would find: the metadata is JSON
        # text (json.dumps writes "ñ" as "\u00f1") and SQLite's lower() folds only ASCII.
        for asset in session.exec(select(Asset).where(col(Asset.id).in_(chunk))):
            found = 0
            for attr in ("title", "description", "alt_text", "meta"):
                new, count = scrub(getattr(asset, attr), pattern)
                if count:
                    # A new object, not an edit in place: the JSON column sees only that.
                    setattr(asset, attr, new)
                    found += count
            if found:
                session.add(asset)
                changed += found
        result = session.exec(
            delete(AssetTag).where(
                col(AssetTag.asset_id).in_(chunk), col(AssetTag.tag) == name.lower()
            )
        )
        changed += int(result.rowcount or 0)
    return changed


def name_pattern(name: str) -> re.Pattern[str]:
    """The name as a whole phrase, in any case."""
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def scrub(value: Any, pattern: re.Pattern[str]) -> tuple[Any, int]:
    """`value` with every match in every string inside it (through dicts and lists; keys
    are field names and stay) replaced by PLACEHOLDER, and how many strings changed."""
    if isinstance(value, str):
        new = pattern.sub(PLACEHOLDER, value)
        return new, int(new != value)
    if isinstance(value, dict):
        items = {key: scrub(item, pattern) for key, item in value.items()}
        return {key: new for key, (new, _) in items.items()}, sum(n for _, n in items.values())
    if isinstance(value, list):
        pairs = [scrub(item, pattern) for item in value]
        return [new for new, _ in pairs], sum(n for _, n in pairs)
    return value, 0
