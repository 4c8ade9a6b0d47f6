"""Erasure with assets=redact on a real video with two real faces (ffmpeg, the face
models): the person's face is blurred into a new original along their track, everything
made from the old one (web versions, poster, thumbnail, storyboard, face crops) is made
again from it, the other person is still found there with a new crop, the sound stays,
the old original is gone, the audit says what happened, and no file holds the name. The
erasure runs as the UI starts it: a job with progress, which re-encodes the video with no
transaction open (another session writes meanwhile, and the erasure notices that its
video changed and blurs it again)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from dam import audit, face_paths, media
from dam.media import BlurRegion
from dam.models import Asset, AuditEntry, Face, FaceEmbedding, FacePath, Job, Rendition, Role
from dam.runtime import Runtime
from gdpr.publishing.face_blur import FaceArea, video_regions
from gdpr.requests import erasure, erasure_staging, person_requests
from ingest.faces.detect import detect_faces
from ingest.ffmpeg import ffmpeg_binary
from ingest.video.frames import Frame, frames_every
from ingest.video.probe import probe
from tests import video_clips as clips
from tests.conftest import Account
from tests.gdpr.requests.test_erasure import scan_files
from tests.privacy_setup import NAME, found, johns

WIDTH, HEIGHT, FACE_EDGE, SECONDS = 640, 360, 120, 3.0
OTHER = (460, 200)  # where the other person stands, still


def erased_box(at: float) -> tuple[int, int]:
    """Where the erased person's face is (left, top) at `at` seconds: drifting right."""
    return round(60 + 20 * at), 60


def face_clip(directory: Path, photo: Path, other: Path) -> Path:
    """Two faces over a busy test pattern for three seconds, one drifting right, one
    still, with a tone, and a title tag naming the person (as an editor writes it)."""
    key = hashlib.sha256(f"{photo}-{other}-{NAME}".encode()).hexdigest()[:12]
    target = directory / f"erase-{key}.mov"
    if target.exists():
        return target
    graph = (
        f"[1:v]scale={FACE_EDGE}:{FACE_EDGE},setsar=1[f];"
        f"[2:v]scale={FACE_EDGE}:{FACE_EDGE},setsar=1[g];"
        "[0:v][f]overlay=x='60+20*t':y=60:shortest=1[a];"
        f"[a][g]overlay=x={OTHER[0]}:y={OTHER[1]}:shortest=1[v]"
    )
    clips.run(
        [
            clips.ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=s={WIDTH}x{HEIGHT}:r=25:d={SECONDS}",
            "-loop", "1", "-framerate", "25", "-t", str(SECONDS), "-i", str(photo),
            "-loop", "1", "-framerate", "25", "-t", str(SECONDS), "-i", str(other),
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
            "-filter_complex", graph, "-map", "[v]", "-map", "3:a",
            "-metadata", f"title={NAME} opent de bibliotheek",
            *clips.H264, *clips.AAC, str(target),
        ]
    )  # fmt: skip
    return target


def frames_of(path: Path) -> list[Frame]:
    binary = ffmpeg_binary()
    assert binary is not None
    frames = frames_every(
        binary, path, every_s=0.25, width=WIDTH, height=HEIGHT, duration_s=SECONDS, limit=100
    )
    assert len(frames) >= 10
    return frames


def faces_in(frames: Sequence[Frame]) -> tuple[list[bool], list[bool]]:
    """Per frame: whether the erased person's face is found, and the other's."""
    erased, other = [], []
    for frame in frames:
        left, top = erased_box(frame.time_s)
        centres = [
            (d.box.x + d.box.w / 2, d.box.y + d.box.h / 2) for d in detect_faces(frame.pixels)
        ]
        erased.append(any(abs(x - left - 60) < 60 and abs(y - top - 60) < 60 for x, y in centres))
        other.append(
            any(abs(x - OTHER[0] - 60) < 60 and abs(y - OTHER[1] - 60) < 60 for x, y in centres)
        )
    return erased, other


def active(regions: Sequence[BlurRegion], at: float) -> np.ndarray:
    """Where the regions blur the frame at `at` (a mask)."""
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    for r in regions:
        if r.start_s <= at and (r.end_s is None or at <= r.end_s):
            mask[r.top : r.top + r.height, r.left : r.left + r.width] = True
    return mask


def detail(pixels: np.ndarray) -> float:
    return float(np.abs(np.diff(pixels.astype(float), axis=1)).mean())


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.timeout(400)
def test_redacting_a_video_blurs_the_face_into_a_new_original_and_everything_made_from_it(
    rt: Runtime,
    client: TestClient,
    make_account: Callable[[Role], Account],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    photos = johns()
    path = face_clip(
        tmp_path_factory.mktemp("erase-clips"), photos["John_Salley"][0], photos["John_Simm"][0]
    )
    answer = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("opening.mov", path.read_bytes(), "video/quicktime")},
        data={"licence_status": "own"},
    )
    assert answer.status_code == 201, answer.text
    asset_id = answer.json()["id"]
    body = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
    assert body["status"] == "ready", body["error"]
    assert NAME in body["title"]  # from the file's tag
    track, stays = sorted(body["faces"], key=lambda f: f["box"]["x"])
    person_id, other_id = (
        client.post("/api/v1/people", headers=officer.headers, json={"name": name}).json()["id"]
        for name in (NAME, "Simon Anderling")
    )
    for face, who in ((track, person_id), (stays, other_id)):
        confirmed = client.post(
            f"/api/v1/faces/{face['id']}/confirm",
            headers=creative.headers,
            json={"person_id": who},
        )
        assert confirmed.json()["state"] == "confirmed", confirmed.text

    # Before: the face is in every picture made from the video, and the name is findable.
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None
        old_sha = asset.sha256
        old_renditions = {
            r.name: r for r in session.exec(select(Rendition).where(Rendition.asset_id == asset_id))
        }
        sealed = session.exec(
            select(FaceEmbedding.sealed).where(FaceEmbedding.face_id == track["id"])
        ).one()
        other_crop = session.get(Face, stays["id"]).crop_path  # type: ignore[union-attr]
    assert {"web_720", "poster", "thumb", "storyboard", "storyboard_vtt"} <= set(old_renditions)
    old_files = files_under(rt.blobs.derived_dir(asset_id))
    assert sum("/faces/" in str(p) for p in old_files) == 2  # the tracks' crops
    assert other_crop is not None
    old_crop = (rt.blobs.root / other_crop).read_bytes()
    old_web = frames_of(rt.blobs.root / old_renditions["web_720"].path)
    erased, other = faces_in(old_web)
    assert sum(erased) >= len(old_web) * 0.8 and sum(other) >= len(old_web) * 0.8
    with Image.open(rt.blobs.root / old_renditions["poster"].path) as poster:
        assert len(detect_faces(np.asarray(poster.convert("RGB")))) == 2
    assert found(rt, NAME.split()[0]) == [asset_id]
    embedding = SimpleNamespace(sealed=[sealed], vectors=[])
    assert scan_files([rt.blobs.original_path(old_sha)], embedding)  # type: ignore[arg-type]

    # Someone writes while the video is being blurred (no transaction of the erasure holds
    # the database meanwhile): the face's path moves a little, and the erasure blurs the
    # video again for where the face is now.
    real = media.original_blurrer(rt.wiring)
    calls: list[float] = []
    heard: list[tuple[float, int]] = []

    def meanwhile(source: Path, target: Path, **options: Any) -> None:
        if not calls:
            # Half-way through its one file (the video), the job says so: progress is
            # files done, the video being blurred in part.
            options["progress"](0.5)
            with rt.session() as session:
                running = session.exec(select(Job).where(Job.stage == "person_erasure")).one()
                heard.append((running.progress, running.params["files"]))
        real(source, target, **options)
        calls.append(1.0)
        if len(calls) == 1:
            with rt.unit_of_work() as session:
                row = session.get(FacePath, track["id"])
                assert row is not None
                moved = [s._replace(x=s.x + 0.01) for s in face_paths.unpack(row.samples)]
                row.samples = face_paths.pack(moved)
                session.add(row)

    rt.wiring.extend(media.ORIGINAL_BLURRER, "ffmpeg", meanwhile)
    with rt.session() as session:
        path_row = session.get(FacePath, track["id"])
        assert path_row is not None
        samples = tuple(s._replace(x=s.x + 0.01) for s in face_paths.unpack(path_row.samples))
        face = session.get(Face, track["id"])
        assert face is not None
        area = FaceArea(
            face.box_x, face.box_y, face.box_w, face.box_h, face.time_s, face.time_end_s, samples
        )
        regions = video_regions([area], width=WIDTH, height=HEIGHT, duration_s=SECONDS)
        job = person_requests.request_erasure(
            session,
            person_id=person_id,
            assets=erasure.AssetsChoice.redact,
            confirm_name=NAME,
            actor=officer.user,
        )
        job_id = job.id
    assert len(calls) == 2
    assert heard == [(0.5, 1)]

    with rt.session() as session:
        done = session.get(Job, job_id)
        assert done is not None
        assert (done.status, done.progress, done.error) == ("done", 1.0, None)
        assert done.params["counts"]["videos_reencoded"] == 1
        asset = session.get(Asset, asset_id)
        assert asset is not None
        # A new original under its new address; the pipeline made everything again.
        assert asset.sha256 != old_sha and asset.status == "ready", asset.error
        assert asset.mime == "video/mp4" and asset.filename == "opening.mp4"
        assert NAME not in asset.title
        new_renditions = {
            r.name: r for r in session.exec(select(Rendition).where(Rendition.asset_id == asset_id))
        }
        # The person's track is gone with its path; the other person's stays, found again
        # in the blurred video, with a crop made from it.
        assert session.get(Face, track["id"]) is None
        assert session.get(FacePath, track["id"]) is None
        (kept,) = session.exec(select(Face).where(Face.asset_id == asset_id))
        assert (kept.id, kept.person_id, kept.state) == (stays["id"], other_id, "confirmed")
        assert kept.crop_path is not None and session.get(FacePath, kept.id) is not None
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "person.erased")).one()
        assert entry.details["assets_redacted"] == [asset_id]
        assert entry.details["videos_reencoded"] == [asset_id]
        assert audit.verify(session).ok
        all_shas = {a.sha256 for a in session.exec(select(Asset))}
    assert not rt.blobs.original_path(old_sha).exists()
    # Neither the unblurred original, nor the first (discarded) blurred one, is stored,
    # nor left waiting in tmp/.
    assert {p.name for p in rt.blobs.iter_originals()} == all_shas
    assert list(rt.blobs.tmp_dir.glob(f"{erasure_staging.KIND}*")) == []
    assert set(new_renditions) == set(old_renditions)
    new_files = files_under(rt.blobs.derived_dir(asset_id))
    # Every file was made again: the kept face's crop under its old name, the rest anew.
    assert old_files & new_files == {rt.blobs.root / other_crop}
    assert (rt.blobs.root / kept.crop_path).read_bytes() != old_crop

    original = rt.blobs.original_path(asset.sha256)
    kept = probe(original, label="MP4")
    assert (kept.display_width, kept.display_height) == (WIDTH, HEIGHT)
    assert kept.audio is not None and kept.audio.codec == "aac"  # copied as it was
    assert kept.duration_s == pytest.approx(SECONDS, abs=0.2)
    assert probe(rt.blobs.root / new_renditions["web_720"].path, label="MP4").audio is not None
    for made in (original, rt.blobs.root / new_renditions["web_720"].path):
        blurred = frames_of(made)
        erased, other = faces_in(blurred)
        assert not any(erased), made.name
        assert sum(other) >= len(blurred) * 0.8, made.name
    with Image.open(rt.blobs.root / new_renditions["poster"].path) as picture:
        assert len(detect_faces(np.asarray(picture.convert("RGB")))) == 1  # the other person

    # Where the face was, its detail is gone; the rest of the picture is as it was.
    new_web = frames_of(rt.blobs.root / new_renditions["web_720"].path)
    for at in (0.5, 1.5, 2.5):
        before = next(f for f in old_web if f.time_s == pytest.approx(at))
        after = next(f for f in new_web if f.time_s == pytest.approx(at))
        left, top = erased_box(at)
        face_box = np.s_[top : top + FACE_EDGE, left : left + FACE_EDGE]
        assert detail(after.pixels[face_box]) < detail(before.pixels[face_box]) / 4, at
        outside = ~active(regions, at)
        difference = np.abs(before.pixels.astype(float) - after.pixels.astype(float))
        assert difference[outside].mean() < 2.5, at

    # No file holds the name or the face's embedding; search has forgotten them.
    files = files_under(rt.settings.data_dir)
    url = rt.settings.resolved_database_url
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///"))
        files |= {p for p in database.parent.glob(database.name + "*") if p.is_file()}
    assert scan_files(sorted(files), embedding) == []  # type: ignore[arg-type]
    for word in NAME.split():
        assert found(rt, word) == []


def test_the_erasure_job_declares_what_blurring_its_largest_video_needs(rt: Runtime) -> None:
    # The blur re-encodes every pixel of the original (no 1080-line cap): a job that runs
    # it reserves that from the memory budget before ffmpeg starts, as a transcode does.
    from dam.jobs import StageContext
    from dam.models import AssetKind, FaceState, Person
    from ingest.video import budget
    from tests.feed_factories import make_asset, make_face

    with rt.unit_of_work() as session:
        person = Person(name="Vera Claes")
        session.add(person)
        session.flush()
        person_id = person.id
    small, large, photo = (
        make_asset(rt, kind=AssetKind.video),
        make_asset(rt, kind=AssetKind.video),
        make_asset(rt),
    )
    with rt.unit_of_work() as session:
        big = session.get(Asset, large)
        assert big is not None
        big.width, big.height, big.meta = 3840, 2160, {"video": {"hdr": "pq"}}
    for asset_id in (small, large, photo):
        make_face(rt, asset_id, state=FaceState.confirmed, person_id=person_id)

    def need(assets: str, settings: Any = None) -> int:
        ctx = StageContext(
            job_id="j", asset_id="", runtime=rt, report_progress=lambda _f: None,
            settings=settings, params={"assets": assets}, person_id=person_id,
        )  # fmt: skip
        estimate = rt.wiring.memory[person_requests.ERASURE_TASK]
        return estimate(ctx)

    expected = budget.blur_need(3840, 2160, True)
    assert expected > budget.blur_need(3840, 2160, False) > budget.blur_need(1600, 1200, False)
    assert expected < rt.settings.job_memory_bytes  # so the cap below is not what counts
    assert need("redact") == expected
    assert need("delete") == 0  # nothing to blur
    # Never more than the budget: a larger job runs alone instead of being refused.
    tight = rt.settings.model_copy(update={"job_memory_mb": 512})
    assert need("redact", tight) == tight.job_memory_bytes
