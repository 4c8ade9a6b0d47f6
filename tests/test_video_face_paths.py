"""A video face track keeps its path (where the face was in every sampled frame) and a
redacted video blurs the face along it: someone who walks across the picture stays
blurred all the way, where the one widened box of old rows loses them.

The end-to-end clip is scikit-image's astronaut (tests/faces_corpus.py) crossing the frame
by several face widths within one track, through the real pipeline, the real redaction
(ffmpeg) and the real detector.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from dam.assets import remove_asset_rows
from dam.face_paths import PathSample, pack, unpack
from dam.geometry import Box
from dam.media import BlurRegion
from dam.models import Asset, AssetKind, AssetStatus, Face, FacePath, Role
from dam.runtime import Runtime
from gdpr.publishing.face_blur import (
    MAX_REGIONS,
    MAX_REGIONS_PER_TRACK,
    VIDEO_PAD,
    FaceArea,
    search_interval,
    video_regions,
)
from ingest.faces.detect import detect_faces
from ingest.faces.store import FoundFace, Span, match_by_span, store_faces
from ingest.faces.tracking import Sighting, Tracker
from ingest.ffmpeg import ffmpeg_binary
from ingest.video.blur import blur_command
from ingest.video.frames import frames_every
from tests import faces_corpus
from tests import video_clips as clips
from tests.conftest import Account

pytestmark = pytest.mark.one_database

W, H = 1280, 720

# --- the stored format (pure) -------------------------------------------------------------


def test_a_path_packs_to_float32_rows_in_time_order() -> None:
    samples = [PathSample(2.0, 0.5, 0.25, 0.1, 0.2), PathSample(0.25, 0.1, 0.2, 0.1, 0.2)]
    data = pack(samples)
    assert len(data) == 2 * 5 * 4
    back = unpack(data)
    assert [s.time_s for s in back] == [0.25, 2.0]
    assert back[1] == pytest.approx(samples[0], abs=1e-6)
    assert unpack(pack([])) == ()
    with pytest.raises(ValueError, match="whole rows"):
        unpack(data[:-1])


def test_a_track_records_every_sighting() -> None:
    tracker = Tracker(interval_s=1.0)
    for t in range(4):  # one face drifting right by a tenth of its width each second
        tracker.add(float(t), [Sighting(float(t), Box(100 + 10 * t, 50, 100, 100), 0.9, 50.0)])
    (track,) = tracker.finish()
    assert [(t, box.x) for t, box in track.path] == [(0.0, 100), (1.0, 110), (2.0, 120), (3.0, 130)]


# --- where to blur (pure) -----------------------------------------------------------------


def walking(seconds: int, *, speed: float, every_s: float = 1.0) -> FaceArea:
    """A face 0.05 x 0.1 of the picture moving right by `speed` (of the width) a second."""
    path = tuple(
        PathSample(n * every_s, 0.05 + speed * n * every_s, 0.4, 0.05, 0.1)
        for n in range(int(seconds / every_s) + 1)
    )
    return FaceArea(0.3, 0.4, 0.05, 0.1, path[0].time_s, path[-1].time_s, path)


def face_at(face: FaceArea, t: float) -> tuple[float, float, float, float]:
    """Its pixel box at `t` (between samples, moving evenly; beyond them, going on)."""
    assert face.path is not None
    pairs = list(pairwise(face.path))
    a, b = next(((a, b) for a, b in pairs if t <= b.time_s), pairs[-1])
    x = a.x + (b.x - a.x) * (t - a.time_s) / (b.time_s - a.time_s)
    return x * W, a.y * H, (x + a.w) * W, (a.y + a.h) * H


def covered(regions: list[BlurRegion], box: tuple[float, float, float, float], t: float) -> bool:
    """Whether regions active at `t` hold all of `box` (clipped to the picture)."""
    left, top, right, bottom = max(0, box[0]), max(0, box[1]), min(W, box[2]), min(H, box[3])
    if right <= left or bottom <= top:
        return True
    active = [r for r in regions if r.start_s <= t and (r.end_s is None or t <= r.end_s)]
    xs = np.arange(int(left), int(np.ceil(right)))
    ys = np.arange(int(top), int(np.ceil(bottom)))
    hidden = np.zeros((len(ys), len(xs)), dtype=bool)
    for r in active:
        inside_x = (xs >= r.left) & (xs < r.left + r.width)
        inside_y = (ys >= r.top) & (ys < r.top + r.height)
        hidden |= inside_y[:, None] & inside_x[None, :]
    return bool(hidden.all())


@pytest.mark.parametrize("speed", [0.0, 0.02, 0.1, 0.2])
def test_the_regions_hold_a_moving_face_at_every_moment(speed: float) -> None:
    face = walking(4, speed=speed)
    regions = video_regions([face], width=W, height=H, duration_s=6.0)
    margin = 0.5 + search_interval(6.0)
    # From the start to a margin after the last sighting, going on at the same speed.
    for step in range(int((4 + margin) * 20) + 1):
        t = step / 20
        assert covered(regions, face_at(face, t), t), (speed, t)
    assert min(r.start_s for r in regions) == 0.0
    assert max(r.end_s or 99 for r in regions) == pytest.approx(4 + margin)
    if speed == 0.0:
        # A face that stays put is the one widened box of old, from start to end.
        old = video_regions(
            [FaceArea(0.05, 0.4, 0.05, 0.1, 0.0, 4.0)], width=W, height=H, duration_s=6.0
        )
        assert regions == old
    else:
        assert 2 <= len(regions) <= 3 or speed == 0.02  # 0.02: within the widened box


def test_a_long_walk_is_a_few_regions_each_much_smaller_than_the_walk() -> None:
    face = walking(10, speed=0.08)
    regions = video_regions([face], width=W, height=H, duration_s=12.0)
    # Neighbouring seconds merge (not one region a second), but no region holds the walk.
    assert 3 <= len(regions) <= 5
    assert max(r.width for r in regions) < (0.08 * 10 + face.w) * W / 2


def test_the_single_box_of_an_old_row_loses_a_face_that_walks_away() -> None:
    face = walking(4, speed=0.1)
    old = FaceArea(face.x, face.y, face.w, face.h, face.time_s, face.time_end_s)
    (region,) = video_regions([old], width=W, height=H, duration_s=6.0)
    assert region.width == pytest.approx((1 + 2 * VIDEO_PAD) * face.w * W, abs=2)
    assert not all(covered([region], face_at(face, t), t) for t in (0.0, 2.0, 4.0))


def test_regions_are_capped_per_track_and_per_video_and_still_hold_the_face() -> None:
    # Wandering all over the picture, a little every second, for ten minutes.
    path = tuple(
        PathSample(float(n), 0.05 + 0.8 * (n / 37 % 1), 0.05 + 0.7 * (n / 23 % 1), 0.06, 0.1)
        for n in range(600)
    )
    wandering = FaceArea(0.1, 0.2, 0.06, 0.1, 0.0, 599.0, path)
    regions = video_regions([wandering], width=W, height=H, duration_s=600.0)
    assert len(regions) == MAX_REGIONS_PER_TRACK
    for sample in path:
        box = (sample.x * W, sample.y * H, (sample.x + sample.w) * W, (sample.y + sample.h) * H)
        assert covered(regions, box, sample.time_s)
    crowd = video_regions([wandering] * 40, width=W, height=H, duration_s=600.0)
    assert len(crowd) <= MAX_REGIONS
    many = video_regions([wandering] * (MAX_REGIONS + 10), width=W, height=H, duration_s=600.0)
    assert len(many) == MAX_REGIONS + 10  # never fewer than one per track


def test_every_region_is_cut_from_the_unblurred_frame_and_blurred_only_while_shown(
    tmp_path: Path,
) -> None:
    regions = [BlurRegion(10 * n, 20, 100, 120, n, n + 1.5) for n in range(3)]
    args = blur_command(
        "/usr/bin/ffmpeg", tmp_path / "in.mp4", tmp_path / "out.mp4", regions=regions,
        duration_s=10.0,
    )  # fmt: skip
    graph = args[args.index("-filter_complex") + 1]
    # One split into a copy per region and the frame they are laid over: not a chain of
    # splits, which ffmpeg runs ever slower (20 regions of a 5 s 720p clip timed out).
    assert graph.count("split=") == 1 and "split=4" in graph
    assert graph.count("crop=") == graph.count("overlay=") == 3
    assert graph.count("between(t\\,1.000\\,2.500)") == 2  # the blur and the overlay


# --- stored with the face, and gone with it -----------------------------------------------


def video_asset(rt: Runtime) -> str:
    with rt.session() as session:
        asset = Asset(
            kind=AssetKind.video, status=AssetStatus.ready, filename="a.mp4",
            mime="video/mp4", size=1, sha256="a" * 64,
        )  # fmt: skip
        session.add(asset)
        session.commit()
        return asset.id


def store(rt: Runtime, asset_id: str, path: tuple[PathSample, ...] | None) -> str:
    found = FoundFace(
        box=Box(0.1, 0.2, 0.1, 0.2), score=0.9, crop=b"\xff\xd8", embedding=None,
        span=Span(0.0, 2.0, 3), path=path,
    )  # fmt: skip
    with rt.session() as session:
        (face_id,) = store_faces(
            session, blobs=rt.blobs, asset_id=asset_id, found=[found], key=None,
            match=match_by_span,
        )  # fmt: skip
        session.commit()
    return face_id


def stored_path(rt: Runtime, face_id: str) -> tuple[PathSample, ...] | None:
    with rt.session() as session:
        row = session.get(FacePath, face_id)
        return None if row is None else unpack(row.samples)


def same(stored: tuple[PathSample, ...] | None, expected: tuple[PathSample, ...]) -> bool:
    """float32 on disk: equal to a millionth."""
    return stored is not None and np.allclose(np.array(stored), np.array(expected), atol=1e-6)


def test_a_re_run_replaces_the_path_and_it_goes_with_its_face(rt: Runtime) -> None:
    asset_id = video_asset(rt)
    first = tuple(PathSample(float(t), 0.1 * t, 0.2, 0.1, 0.2) for t in range(3))
    face_id = store(rt, asset_id, first)
    assert same(stored_path(rt, face_id), first)
    second = first[:2]
    assert store(rt, asset_id, second) == face_id  # the same track, its path replaced
    assert same(stored_path(rt, face_id), second)
    assert store(rt, asset_id, None) == face_id and stored_path(rt, face_id) is None

    store(rt, asset_id, first)
    with rt.session() as session:  # the face goes (a re-run no longer finds it)
        session.delete(session.get(Face, face_id))
        session.commit()
    assert stored_path(rt, face_id) is None
    face_id = store(rt, asset_id, first)
    with rt.session() as session:  # the asset goes (deleted, or erased with it)
        asset = session.get(Asset, asset_id)
        assert asset is not None
        remove_asset_rows(session, asset)
        session.commit()
    with rt.session() as session:
        assert session.exec(select(FacePath)).all() == []


# --- end to end: a face walking across a clip ---------------------------------------------

FRAME_W, FRAME_H, SECONDS = 640, 360, 4.0
HEAD_W, HEAD_H = 120, 134  # the astronaut's head and some hair: her face ~62 px wide
SPEED = 120  # px a second: about two face widths, eight over the clip


def walking_clip(directory: Path) -> Path:
    """The astronaut's head crossing a grey picture from left to right in four seconds."""
    target = directory / "walking-astronaut.mp4"
    if target.exists():
        return target
    head = directory / "head.png"
    with Image.open(faces_corpus.astronaut()) as image:
        # Her face is about x 180-265, y 60-175 of the 512 px image.
        image.convert("RGB").crop((140, 20, 310, 210)).resize((HEAD_W, HEAD_H)).save(head)
    graph = (
        f"[1:v]setsar=1[f];[0:v][f]overlay=x='20+{SPEED}*t':y=({FRAME_H}-{HEAD_H})/2:shortest=1[v]"
    )
    clips.run(
        [
            clips.ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c=0x808080:s={FRAME_W}x{FRAME_H}:r=25:d={SECONDS}",
            "-loop", "1", "-framerate", "25", "-t", str(SECONDS), "-i", str(head),
            "-filter_complex", graph, "-map", "[v]", *clips.H264, str(target),
        ]
    )  # fmt: skip
    return target


def faces_per_frame(path: Path) -> list[int]:
    binary = ffmpeg_binary()
    assert binary is not None
    frames = frames_every(
        binary, path, every_s=0.25, width=FRAME_W, height=FRAME_H, duration_s=SECONDS,
        limit=100,
    )  # fmt: skip
    assert len(frames) >= 15
    return [len(detect_faces(f.pixels)) for f in frames]


def redacted(client: TestClient, account: Account, asset_id: str, directory: Path) -> Path:
    response = client.get(
        f"/api/v1/assets/{asset_id}/download?channel=internal&redact=true",
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    out = directory / f"redacted-{len(list(directory.iterdir()))}.mp4"
    out.write_bytes(response.content)
    return out


@pytest.mark.timeout(300)
def test_a_redacted_video_follows_a_face_across_the_picture(
    rt: Runtime,
    client: TestClient,
    make_account: Callable[[Role], Account],
    tmp_path: Path,
) -> None:
    try:
        source = walking_clip(tmp_path)
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    asset_id = clips.store(rt, source)
    assert clips.asset(rt, asset_id).status == AssetStatus.ready, clips.asset(rt, asset_id).error
    with rt.session() as session:
        (face,) = session.exec(select(Face).where(Face.asset_id == asset_id))
    # One track the whole way, its path one sample a second, moving right.
    path = stored_path(rt, face.id)
    assert path is not None and len(path) >= 4
    assert [s.x for s in path] == sorted(s.x for s in path)
    assert (path[-1].x - path[0].x) > 4 * path[0].w

    rendition = clips.renditions(rt, asset_id)["web_720"]
    assert (rendition.width, rendition.height) == (FRAME_W, FRAME_H)
    before = faces_per_frame(rt.blobs.root / rendition.path)
    assert sum(1 for n in before if n) >= len(before) * 0.8, before

    # Along the path: no face anywhere, at any sampled moment.
    after = faces_per_frame(redacted(client, creative, asset_id, tmp_path))
    assert after == [0] * len(after), after

    # The same face without its path (a row from before paths were stored): the one
    # widened box of its best frame, and the face walks out of it.
    with rt.session() as session:
        session.delete(session.get(FacePath, face.id))
        session.commit()
    fallback = faces_per_frame(redacted(client, creative, asset_id, tmp_path))
    assert sum(1 for n in fallback if n) >= 3, fallback

    # The access export holds the path (personal data: where they were, when).
    with rt.session() as session:
        session.add(FacePath(face_id=face.id, samples=pack(path)))
        session.commit()
    person = client.post("/api/v1/people", headers=officer.headers, json={"name": "A"})
    assert person.status_code == 201, person.text
    confirmed = client.post(
        f"/api/v1/faces/{face.id}/confirm",
        headers=creative.headers,
        json={"person_id": person.json()["id"]},
    )
    assert confirmed.status_code == 200, confirmed.text
    export = client.get(f"/api/v1/people/{person.json()['id']}/export", headers=officer.headers)
    assert export.status_code == 200, export.text
    document = json.loads(zipfile.ZipFile(io.BytesIO(export.content)).read("person.json"))
    (exported,) = document["faces"]
    assert [row[0] for row in exported["path"]] == [round(s.time_s, 3) for s in path]
    assert exported["path"][-1][1] == pytest.approx(path[-1].x, abs=1e-4)
