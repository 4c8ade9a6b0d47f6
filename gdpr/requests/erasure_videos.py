"""Blurring an erased person's face into the videos they are confirmed on (art. 17,
"redact"): a new original, and everything made from the old one made again from it.

The stored original is re-encoded with their face tracks blurred along their paths
(gdpr.publishing.face_blur.video_regions: the regions a redacted download blurs) by the
blurrer ingest lends through the core (dam.media.original_blurrer: ffmpeg runs only in
ingest), and stored under its new content address with the name overwritten in its tags
(gdpr.requests.erasure_originals).

That takes a while, so it happens before the erasure's transaction (`Prepared.make`): on
SQLite a transaction holds the write lock, and nothing else could write meanwhile. The new
original waits as a temp file (gdpr/requests/erasure_staging.py) until the transaction
moves it into the store. The
transaction takes a prepared original only when it was made from the asset's current
original with the regions its faces give now (the plan's key; otherwise the erasure
prepares again). `apply` then points the asset at the new original and
removes, with their rows, its renditions (web versions, poster, thumbnail, storyboard)
and every face crop, all made from the old one. The person's face tracks are deleted with
their paths: the pipeline, started again, searches the blurred video for faces, and a
track kept would be handed to whoever it finds there. It makes everything else anew from
the blurred original, once the old original and files are gone after the commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from dam import face_paths, jobs, media
from dam.blobs import BlobStore
from dam.clock import now
from dam.errors import InvalidInput, ProcessingError
from dam.models import Asset, AssetKind, Face, FaceState, Rendition
from dam.wiring import Wiring
from gdpr.publishing.face_blur import FaceArea, video_regions
from gdpr.requests import erasure_originals, erasure_staging
from gdpr.requests.erasure_staging import Placement, Staged

# Part of every plan's key: a change to how originals are blurred makes new ones.
VERSION = 1
MP4 = "video/mp4"


@dataclass(frozen=True)
class VideoPlan:
    """A video's blurred original to make: from which original, at what size, what."""

    asset_id: str
    source: str  # the sha256 of the original it is made from
    width: int
    height: int
    duration_s: float
    regions: tuple[media.BlurRegion, ...]

    @property
    def key(self) -> str:
        recipe = json.dumps({"v": VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(recipe.encode()).hexdigest()


@dataclass(frozen=True)
class Applied:
    old_original: str  # the unblurred original's hash: delete it after the commit
    paths: list[Path]  # renditions and face crops made from it: delete them too
    removed_faces: set[str]  # the person's face tracks, deleted
    crops: int  # of which crops
    job_id: str | None  # the pipeline's first job: enqueue it once the old files are gone


def plan_videos(session: Session, faces: Sequence[Face]) -> list[VideoPlan]:
    """A plan for each video among the assets of `faces` (the person's confirmed faces)."""
    by_asset: dict[str, list[Face]] = {}
    for face in faces:
        by_asset.setdefault(face.asset_id, []).append(face)
    paths = face_paths.paths_of(session, [f.id for f in faces])
    plans = []
    for asset_id in sorted(by_asset):
        asset = session.get(Asset, asset_id)
        if asset is None or AssetKind(asset.kind) != AssetKind.video:
            continue
        width, height = _even(asset.width), _even(asset.height)
        duration = asset.duration_s or 0.0
        if not width or not height or duration <= 0:
            raise InvalidInput(
                "A video this person is on was never processed completely (its size or length "
                "is unknown), so their face cannot be blurred into it. Process it again, or "
                "erase with assets=delete."
            )
        areas = [
            FaceArea(f.box_x, f.box_y, f.box_w, f.box_h, f.time_s, f.time_end_s, paths.get(f.id))
            for f in sorted(by_asset[asset_id], key=lambda f: f.id)
        ]
        regions = video_regions(areas, width=width, height=height, duration_s=duration)
        plans.append(VideoPlan(asset.id, asset.sha256, width, height, duration, tuple(regions)))
    return plans


def memory_need(session: Session, person_id: str, wiring: Wiring) -> int:
    """The memory blurring the videos a person is confirmed on needs: the largest one's
    (they are blurred one after another), as the lent blurrer estimates it."""
    on = select(Face.asset_id).where(
        col(Face.person_id) == person_id, col(Face.state) == FaceState.confirmed
    )
    videos = session.exec(
        select(Asset).where(col(Asset.id).in_(on), col(Asset.kind) == AssetKind.video)
    )
    sizes = {
        (_even(a.width), _even(a.height), bool(((a.meta or {}).get("video") or {}).get("hdr")))
        for a in videos
    }
    if not sizes:
        return 0
    need = media.original_blur_memory(wiring)
    return max(need(width, height, hdr) for width, height, hdr in sizes)


def _even(size: int | None) -> int:
    return 0 if size is None or size < 2 else size - size % 2


@dataclass
class Prepared:
    """The blurred originals made for one erasure, by plan key."""

    made: dict[str, Staged] = field(default_factory=dict)

    def missing(self, plans: Sequence[VideoPlan]) -> list[VideoPlan]:
        return [p for p in plans if p.key not in self.made]

    def __getitem__(self, plan: VideoPlan) -> Staged:
        return self.made[plan.key]

    def make(
        self,
        plans: Sequence[VideoPlan],
        *,
        blobs: BlobStore,
        wiring: Wiring,
        name: str,
        progress: Callable[[float], None],
    ) -> None:
        """Blur each plan's original into a staged file (call with no transaction
        open); `progress` hears how many of them are done (the one being blurred counts
        with the part of it that is)."""
        blur = media.original_blurrer(wiring)
        for number, plan in enumerate(plans):
            source = blobs.original_path(plan.source)
            if not source.is_file():
                raise ProcessingError(
                    "The original of a video this person is on is missing from storage; an "
                    "administrator can run `dam check`. Nothing was erased."
                )
            temp = erasure_staging.new_temp(blobs, suffix=".mp4")

            def tell(fraction: float, number: int = number) -> None:
                progress(number + max(0.0, min(1.0, fraction)))

            try:
                blur(
                    source,
                    temp,
                    width=plan.width,
                    height=plan.height,
                    regions=plan.regions,
                    progress=tell,
                )
                chunks = erasure_originals.scrubbed_chunks(temp, name) if name.strip() else None
                if chunks is None:
                    stored = erasure_staging.stage_file(temp)
                else:
                    stored = erasure_staging.stage_chunks(blobs, chunks)
                    temp.unlink()
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            self.made[plan.key] = stored
            progress(number + 1)

    def discard(self) -> None:
        """Remove the blurred originals no asset took (the erasure failed, or a video
        changed and was blurred again)."""
        for staged in self.made.values():
            staged.discard()
        self.made.clear()


def apply(
    session: Session,
    blobs: BlobStore,
    asset: Asset,
    person_faces: Sequence[Face],
    stored: Staged,
    placement: Placement,
) -> Applied:
    """Make `stored` the asset's original (in the caller's transaction; moved into the
    store when it settles its `placement`): its renditions and face crops go, the person's
    face tracks too, and its pipeline starts again."""
    placement.originals.append(stored)
    paths = []
    for rendition in session.exec(select(Rendition).where(Rendition.asset_id == asset.id)):
        paths.append(blobs.root / rendition.path)
        session.delete(rendition)
    removed = {f.id for f in person_faces}
    crops = 0
    for face in session.exec(select(Face).where(Face.asset_id == asset.id)):
        if face.crop_path:
            # Any crop may show part of the person (a neighbour's padded box): all are made
            # again from the blurred video.
            paths.append(blobs.root / face.crop_path)
            crops += face.id in removed
            face.crop_path = None
            session.add(face)
        if face.id in removed:
            session.delete(face)  # its path goes with it (ON DELETE CASCADE)
    old = asset.sha256
    asset.sha256, asset.size = stored.sha256, stored.size
    if asset.mime != MP4:
        stem = asset.filename.rsplit(".", 1)[0] or asset.id
        asset.filename, asset.mime = f"{stem}.mp4", MP4
    asset.updated_at = now()
    # Sent once the old files are removed: a face kept by the re-run gets its new crop
    # under the old one's name, which the removal must not take.
    job = jobs.start_pipeline(session, asset, enqueue=False)
    session.add(asset)
    session.flush()
    return Applied(old, paths, removed, crops, job.id if job else None)
