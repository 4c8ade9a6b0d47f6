"""Faces in videos, end to end: clips made with ffmpeg from real face photos (dlib's johns)
go through the whole pipeline; each person in a clip becomes one face track."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from dam import biometrics, migrate
from dam.cli import app, install_commands
from dam.jobs import StageContext
from dam.models import AssetStatus, Face, FaceEmbedding, FaceState, Job, Role
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings, get_settings, load_settings
from gdpr.recognition.matching import MATCH_DISTANCE
from ingest.video.faces import detect_video_faces, sampled_frames
from ingest.video.guard import Cancelled
from ingest.video.sampling import plan_sampling
from tests import faces_corpus
from tests import video_clips as clips
from tests.conftest import Account
from tests.video_clips import Clip

pytestmark = [pytest.mark.timeout(300), pytest.mark.one_database]

FRAME = "640x360"
FACE_EDGE = 180
DARK, LIGHT, GREY = "0x203040", "0xd0c8b0", "0x808080"


@pytest.fixture(scope="session")
def johns() -> dict[str, list[Path]]:
    try:
        return faces_corpus.johns()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("face-clips")


Shot = tuple[Path | None, float, str, int]  # photo (or none), seconds, background, x


def face_clip(directory: Path, shots: list[Shot]) -> Path:
    """Shots one after the other, each a face photo drifting right over a plain
    background (or the background alone), cut together into one H.264 MP4."""
    recipe = repr([(str(p), s, bg, x) for p, s, bg, x in shots]).encode()
    target = directory / f"faces-{hashlib.sha256(recipe).hexdigest()[:16]}.mp4"
    if target.exists():
        return target
    command = [clips.ffmpeg(), "-hide_banner", "-loglevel", "error", "-y"]
    graph, labels, inputs = [], [], 0
    for n, (photo, seconds, background, x) in enumerate(shots):
        command += ["-f", "lavfi", "-i", f"color=c={background}:s={FRAME}:r=25:d={seconds}"]
        back, inputs = inputs, inputs + 1
        if photo is None:
            graph.append(f"[{back}:v]null[v{n}]")
        else:
            command += ["-loop", "1", "-framerate", "25", "-t", str(seconds), "-i", str(photo)]
            face, inputs = inputs, inputs + 1
            graph.append(
                f"[{face}:v]scale={FACE_EDGE}:{FACE_EDGE},setsar=1[f{n}];"
                f"[{back}:v][f{n}]overlay=x='{x}+20*t':y=90:shortest=1[v{n}]"
            )
        labels.append(f"[v{n}]")
    graph.append("".join(labels) + f"concat=n={len(shots)}:v=1:a=0[out]")
    command += ["-filter_complex", ";".join(graph), "-map", "[out]", *clips.H264, str(target)]
    clips.run(command)
    return target


def tracks(rt: Runtime, asset_id: str) -> list[Face]:
    with rt.session() as session:
        faces = session.exec(select(Face).where(Face.asset_id == asset_id))
        return sorted(faces, key=lambda f: f.time_s or 0.0)


def embedding(rt: Runtime, face_id: str) -> np.ndarray:
    with rt.session() as session:
        row = session.get(FaceEmbedding, face_id)
    assert row is not None
    key = biometrics.face_key(rt.settings)
    return biometrics.unseal(key, face_id=face_id, model=row.model, sealed=row.sealed)


def test_two_people_one_after_the_other_are_two_tracks(
    rt: Runtime, client: TestClient, creative: Account, clip_dir: Path, johns: dict[str, list[Path]]
) -> None:
    # Person A for 3.4 s on a dark background, a cut, then person B for 3 s on a light one.
    path = face_clip(
        clip_dir,
        [(johns["John_Salley"][0], 3.4, DARK, 200), (johns["John_Simm"][0], 3.0, LIGHT, 260)],
    )
    asset_id = clips.store(rt, path)
    assert clips.asset(rt, asset_id).status == AssetStatus.ready, clips.asset(rt, asset_id).error
    first, second = tracks(rt, asset_id)
    assert first.time_s == pytest.approx(0.0, abs=1.0)
    assert first.time_end_s == pytest.approx(3.4, abs=1.0)
    assert second.time_s == pytest.approx(3.4, abs=1.0)
    assert second.time_end_s == pytest.approx(6.4, abs=1.0)
    # The cut is searched at once (frames are scanned four times a second), not at the
    # next whole second.
    assert second.time_s is not None and 3.4 <= second.time_s <= 3.75
    assert (first.frames or 0) >= 3 and (second.frames or 0) >= 3
    # Different people: far apart, never in one cluster, each with their own crop.
    distance = float(np.linalg.norm(embedding(rt, first.id) - embedding(rt, second.id)))
    assert distance > MATCH_DISTANCE
    assert first.state == second.state == FaceState.unknown
    assert first.cluster_id != second.cluster_id
    for face in (first, second):
        assert face.crop_path is not None
        assert (rt.blobs.root / face.crop_path).read_bytes()[:2] == b"\xff\xd8"
        # The box's centre is on the photo as drawn: x from 200 px (drifting right by at
        # most 70 px), y 90..270 px of 360.
        centre_x, centre_y = face.box_x + face.box_w / 2, face.box_y + face.box_h / 2
        assert 200 / 640 < centre_x < (260 + 70 + FACE_EDGE) / 640
        assert 90 / 360 < centre_y < 270 / 360
    # The API lists the tracks with their spans, and the pipeline ran identity after them.
    body = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
    listed = sorted(body["faces"], key=lambda f: f["time_s"])
    assert [(f["id"], f["time_s"], f["time_end_s"]) for f in listed] == [
        (f.id, f.time_s, f.time_end_s) for f in (first, second)
    ]
    with rt.session() as session:
        stages = [j.stage for j in session.exec(select(Job).where(Job.asset_id == asset_id))]
    assert stages[-2:] == ["video_faces", "identity"]


def test_someone_who_leaves_and_comes_back_soon_is_one_track(
    rt: Runtime, clip_dir: Path, johns: dict[str, list[Path]]
) -> None:
    photo = johns["John_Savage"][2]
    path = face_clip(
        clip_dir, [(photo, 2.0, GREY, 100), (None, 1.5, GREY, 0), (photo, 2.0, GREY, 380)]
    )
    asset_id = clips.store(rt, path)
    (track,) = tracks(rt, asset_id)
    assert track.time_s == pytest.approx(0.0, abs=1.0)
    assert track.time_end_s == pytest.approx(5.5, abs=1.0)


def test_a_clip_without_faces_has_no_tracks(rt: Runtime, clip_dir: Path) -> None:
    path = clips.render(Clip("no-faces", size="320x240", seconds=3.0), clip_dir)
    asset_id = clips.store(rt, path)
    assert clips.asset(rt, asset_id).status == AssetStatus.ready
    assert tracks(rt, asset_id) == []
    with rt.session() as session:
        stages = {j.stage for j in session.exec(select(Job).where(Job.asset_id == asset_id))}
    assert "video_faces" in stages


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    # The command line builds its own runtime from the environment: the same database
    # and data directory as `rt`.
    monkeypatch.setenv("DAM_DATA_DIR", str(rt.settings.data_dir))
    monkeypatch.setenv("DAM_DATABASE_URL", str(rt.settings.database_url))
    monkeypatch.setenv("DAM_QUEUE_URL", "immediate://")
    get_settings.cache_clear()
    install_commands()
    yield CliRunner()
    get_settings.cache_clear()


def test_rebuild_keeps_a_confirmed_track(
    rt: Runtime,
    client: TestClient,
    make_account: Callable[[Role], Account],
    cli: CliRunner,
    clip_dir: Path,
    johns: dict[str, list[Path]],
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    path = face_clip(clip_dir, [(johns["John_Schneider"][1], 3.0, DARK, 200)])
    asset_id = clips.store(rt, path)
    (before,) = tracks(rt, asset_id)
    person = client.post("/api/v1/people", headers=officer.headers, json={"name": "X"})
    assert person.status_code == 201, person.text
    person_id = person.json()["id"]
    confirmed = client.post(
        f"/api/v1/faces/{before.id}/confirm",
        headers=creative.headers,
        json={"person_id": person_id},
    )
    assert confirmed.status_code == 200, confirmed.text
    result = cli.invoke(app, ["faces", "rebuild", "--asset", asset_id])
    assert result.exit_code == 0, result.output
    (after,) = tracks(rt, asset_id)
    assert (after.id, after.state, after.person_id) == (before.id, FaceState.confirmed, person_id)
    assert after.time_end_s == pytest.approx(before.time_end_s or 0.0, abs=0.5)
    with rt.session() as session:
        runs = [
            j.stage
            for j in session.exec(select(Job).where(Job.asset_id == asset_id))
            if j.stage == "video_faces"
        ]
    assert len(runs) == 2


@pytest.fixture
def detection_only(settings_factory: Callable[..., Settings]) -> Iterator[Runtime]:
    runtime = build_runtime(settings_factory(face_recognition=False))
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


def test_detection_only_tracks_by_place_and_stores_no_embeddings(
    detection_only: Runtime, clip_dir: Path, johns: dict[str, list[Path]]
) -> None:
    # Without embeddings only the place tells people apart: A on the left, then B on the
    # right, their boxes far apart.
    path = face_clip(
        clip_dir,
        [(johns["John_Salley"][0], 3.4, DARK, 20), (johns["John_Simm"][0], 3.0, LIGHT, 400)],
    )
    asset_id = clips.store(detection_only, path)
    left, right = tracks(detection_only, asset_id)
    assert (left.time_s, right.time_s) == (pytest.approx(0.0, abs=1), pytest.approx(3.4, abs=1))
    assert (left.time_end_s, right.time_end_s) == (
        pytest.approx(3.4, abs=1),
        pytest.approx(6.4, abs=1),
    )
    assert left.box_x < 0.3 < 0.6 < right.box_x
    assert left.cluster_id is None and right.cluster_id is None  # nothing to compare
    with detection_only.session() as session:
        assert list(session.exec(select(FaceEmbedding))) == []


def test_the_frame_reader_stops_ffmpeg_when_the_consumer_stops(clip_dir: Path) -> None:
    source = clips.render(Clip("long-for-faces", size="640x360", seconds=60.0), clip_dir)
    started = time.monotonic()
    frames = sampled_frames(
        source, width=640, height=360, duration_s=60.0, plan=plan_sampling(60.0)
    )
    seen = [next(frames).time_s, next(frames).time_s]
    frames.close()  # what an exception in the consumer (cancellation) does
    assert seen == [0.0, 1.0]
    assert time.monotonic() - started < 20
    assert not [t for t in threading.enumerate() if t.name == "video-faces-ffmpeg"]


@pytest.fixture
def faces_off(tmp_path: Path) -> Iterator[Runtime]:
    # SQLite only: this is about stopping ffmpeg, not about the database.
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'beeldbank.db'}",
        queue_url="immediate://",
        face_detection=False,
    )
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


def test_deleting_the_asset_stops_the_face_search(faces_off: Runtime, clip_dir: Path) -> None:
    rt = faces_off
    source = clips.render(Clip("cancel-faces", size="320x240", seconds=20.0), clip_dir)
    asset_id = clips.store(rt, source)  # the pipeline without faces: renditions only
    assert tracks(rt, asset_id) == []
    ctx = StageContext(
        job_id="gone",  # as if the asset and its jobs were deleted meanwhile
        asset_id=asset_id,
        runtime=rt,
        settings=rt.settings.model_copy(update={"face_detection": True}),
        report_progress=lambda _f: None,
    )
    with pytest.raises(Cancelled):
        detect_video_faces(ctx)  # at its first progress report, a second in
    assert not [t for t in threading.enumerate() if t.name == "video-faces-ffmpeg"]
    assert tracks(rt, asset_id) == []
