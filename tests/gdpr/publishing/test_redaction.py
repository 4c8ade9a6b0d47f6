"""Redacted downloads: every face not cleared for the channel is blurred, and the real
face detector, run on what was downloaded, no longer finds those faces (photos and
videos); what blurring cannot fix still refuses."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlmodel import select

from dam.blobs import BlobStore
from dam.geometry import Box, iou
from dam.media import BlurRegion
from dam.models import AuditEntry, FaceState, Role, VerdictStatus
from dam.runtime import Runtime
from dam.settings import load_settings
from gdpr.judgement.verdict import (
    CLEARING,
    AssetTerms,
    FaceTerms,
    PersonTerms,
    faces_not_cleared,
    judge_redacted,
)
from gdpr.publishing import redaction
from gdpr.publishing.face_blur import (
    FaceArea,
    PixelBox,
    blur_photo,
    pixel_box,
    search_interval,
    video_regions,
)
from ingest.faces.detect import detect_faces
from ingest.ffmpeg import ffmpeg_binary
from ingest.video.blur import blur_command
from ingest.video.frames import frames_every
from tests import faces_corpus
from tests import video_clips as clips
from tests.conftest import Account
from tests.gdpr.judgement.test_verdict_pure import (
    CHANNELS,
    DAY,
    T0,
    consent,
    moments,
    scenarios,
    valid_for,
)

pytestmark = pytest.mark.one_database

NAME = "Roos Verbeek"

# --- which faces, and what blurring cannot fix (pure) ------------------------------------


def test_faces_not_cleared_are_all_but_the_consented_ones() -> None:
    people = {
        "ok": PersonTerms("ok", consents=(consent(pid="ok", channels=("website",)),)),
        "print": PersonTerms("print", consents=(consent(pid="print", channels=("print",)),)),
        "gone": PersonTerms("gone", consents=(consent(pid="gone", withdrawn=T0 - DAY),)),
    }
    faces = (
        FaceTerms("f-ok", FaceState.confirmed, "ok"),
        FaceTerms("f-print", FaceState.confirmed, "print"),
        FaceTerms("f-gone", FaceState.confirmed, "gone"),
        FaceTerms("f-nobody", FaceState.confirmed, "erased"),
        FaceTerms("f-unknown", FaceState.unknown),
        FaceTerms("f-suggested", FaceState.suggested, "ok"),  # not confirmed: not cleared
        FaceTerms("f-dismissed", FaceState.dismissed),
    )
    asset = AssetTerms(id="a", faces=faces, alt_text="alt")
    assert faces_not_cleared(asset, people, "website", T0) == (
        "f-print",
        "f-gone",
        "f-nobody",
        "f-unknown",
        "f-suggested",
    )
    verdict, blurred = judge_redacted(asset, people, "website", T0)
    assert verdict.status == VerdictStatus.cleared
    assert len(blurred) == 5
    # For print only the print consent holds.
    assert "f-print" not in faces_not_cleared(asset, people, "print", T0)
    assert "f-ok" in faces_not_cleared(asset, people, "print", T0)


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        ({"embargo_until": T0 + DAY}, "embargo"),
        ({"licence_channels": frozenset({"print"})}, "licence_channel"),
        ({"licence_until": T0 - DAY}, "licence_expired"),
        ({"alt_text": ""}, "alt_text_missing"),
        ({"restricted": True}, "restricted"),
        ({"undetected_people": True}, "people_not_detected"),
        ({"faces_checked": False}, "faces_not_checked"),
    ],
)
def test_blurring_does_not_fix_what_is_not_a_face(facts: dict[str, object], code: str) -> None:
    values: dict[str, object] = {"id": "a", "alt_text": "alt"}
    values.update(facts)
    asset = AssetTerms(faces=(FaceTerms("f1", FaceState.unknown),), **values)  # type: ignore[arg-type]
    verdict, blurred = judge_redacted(asset, {}, "website", T0)
    assert verdict.status != VerdictStatus.cleared
    assert [r.code for r in verdict.reasons if r.code != "no_people"] == [code]
    assert blurred == ("f1",)


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(CHANNELS), moments)
def test_a_redacted_version_shows_only_faces_with_valid_consent(
    scenario: tuple[AssetTerms, dict[str, PersonTerms]], channel: str, at: datetime
) -> None:
    asset, people = scenario
    verdict, blurred = judge_redacted(asset, people, channel, at)
    for face in asset.faces:
        shown = face.state != FaceState.dismissed and face.id not in blurred
        if shown:
            assert face.state == FaceState.confirmed
            assert valid_for(people.get(face.person_id or ""), channel, at)
        elif face.state != FaceState.dismissed:
            assert not (
                face.state == FaceState.confirmed
                and valid_for(people.get(face.person_id or ""), channel, at)
            )
    # Faces never keep a redacted version back; only what is not a face does.
    plain = judge_redacted(
        AssetTerms(id=asset.id, faces=asset.faces, alt_text="alt"), people, channel, at
    )[0]
    assert plain.status == VerdictStatus.cleared
    if verdict.status == VerdictStatus.cleared:
        assert not asset.undetected_people and asset.faces_checked


# --- where to blur (pure) ---------------------------------------------------------------


def test_a_photo_box_is_padded_even_and_kept_inside() -> None:
    box = pixel_box(FaceArea(0.4, 0.4, 0.2, 0.2), pad=0.3, width=1000, height=500)
    assert box == PixelBox(340, 170, 320, 160)
    corner = pixel_box(FaceArea(0.9, -0.05, 0.2, 0.2), pad=0.3, width=801, height=601)
    assert corner is not None
    assert (corner.left, corner.top, corner.width) == (672, 0, 128)  # to the last even column
    assert corner.left + corner.width <= 801 and corner.top + corner.height <= 601
    assert all(v % 2 == 0 for v in (corner.left, corner.top, corner.width, corner.height))
    assert pixel_box(FaceArea(1.5, 0.2, 0.1, 0.1), pad=0.3, width=100, height=100) is None
    sliver = pixel_box(FaceArea(0.999, 0.5, 0.0001, 0.1), pad=0.0, width=100, height=100)
    assert sliver is not None and sliver.width == 2 and sliver.left + 2 <= 100


def test_video_regions_follow_the_track_with_margins() -> None:
    margin = 0.5 + search_interval(30.0)
    assert search_interval(30.0) == 1.0 and search_interval(3600.0) == 2.0
    track = FaceArea(0.4, 0.25, 0.1, 0.2, time_s=3.0, time_end_s=8.0)
    (region,) = video_regions([track], width=1280, height=720, duration_s=30.0)
    # One box width (height) more on every side: three times as wide and as high.
    assert (region.left, region.top, region.width, region.height) == (384, 36, 384, 432)
    assert region.start_s == pytest.approx(3.0 - margin)
    assert region.end_s == pytest.approx(8.0 + margin)
    early = FaceArea(0.4, 0.25, 0.1, 0.2, time_s=0.4, time_end_s=29.0)
    (whole,) = video_regions([early], width=1280, height=720, duration_s=30.0)
    assert (whole.start_s, whole.end_s) == (0.0, None)
    (unknown_span,) = video_regions(
        [FaceArea(0.4, 0.25, 0.1, 0.2)], width=1280, height=720, duration_s=30.0
    )
    assert (unknown_span.start_s, unknown_span.end_s) == (0.0, None)


def test_the_video_blur_command_reads_only_our_file_and_keeps_the_sound(tmp_path: Path) -> None:
    regions = [BlurRegion(10, 20, 100, 120, 1.0, 4.5), BlurRegion(0, 0, 64, 64, 2.0, None)]
    args = blur_command(
        "/usr/bin/ffmpeg", tmp_path / "in.mp4", tmp_path / "out.mp4", regions=regions,
        duration_s=10.0,
    )  # fmt: skip
    text = " ".join(args)
    assert args[args.index("-protocol_whitelist") + 1] == "file,pipe"
    assert args[args.index("-f") + 1] == "mov"
    graph = args[args.index("-filter_complex") + 1]
    assert graph.count("crop=") == 2 and graph.count("overlay=") == 2
    assert "between(t\\,1.000\\,4.500)" in graph and "gte(t\\,2.000)" in graph
    assert "crop=100:120:10:20" in graph
    assert "-c:a copy" in text and "0:a?" in text and "-map_metadata -1" in text


def test_blurred_photo_boxes_lose_their_detail() -> None:
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), "RGB")
    out = np.asarray(blur_photo(noise, [PixelBox(40, 20, 60, 80)])).astype(float)
    inside, outside = out[20:100, 40:100], out[:, 110:]
    assert np.abs(np.diff(inside, axis=1)).mean() < 2.0
    assert np.array_equal(outside, np.asarray(noise)[:, 110:])


def test_old_redacted_files_are_swept_and_an_asset_s_can_be_forgotten(tmp_path: Path) -> None:
    settings_ = load_settings(data_dir=tmp_path / "data", database_url="sqlite://")
    blobs = BlobStore(settings_.data_dir)
    cache = redaction.cache_dir(blobs)
    old, fresh, other = cache / "a1-old.jpg", cache / "a1-new.jpg", cache / "b2-new.mp4"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    hours_ago = time.time() - redaction.CACHE_KEEP_S - 60
    os.utime(old, (hours_ago, hours_ago))
    redaction.prune_cache(blobs)
    assert sorted(p.name for p in cache.iterdir()) == ["a1-new.jpg", "b2-new.mp4"]
    assert redaction.forget(blobs, "a1") == 1
    assert [p.name for p in cache.iterdir()] == ["b2-new.mp4"]
    assert not any(blobs.originals_dir.iterdir())


# --- photos through the API, checked with the detector -----------------------------------


@pytest.fixture(scope="session")
def dlib_faces() -> Path:
    try:
        return faces_corpus.dlib_examples() / "faces"
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))


def upload(client: TestClient, account: Account, path: Path) -> dict:
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (path.name, path.read_bytes(), "image/jpeg")},
        data={"licence_status": "own"},  # about faces: the licence must not hold it back
    )
    assert response.status_code == 201, response.text
    asset = client.get(f"/api/v1/assets/{response.json()['id']}", headers=account.headers)
    assert asset.json()["status"] == "ready", asset.json()["error"]
    return asset.json()


def consented_person(client: TestClient, officer: Account, channels: list[str]) -> str:
    person = client.post("/api/v1/people", headers=officer.headers, json={"name": NAME})
    assert person.status_code == 201, person.text
    person_id: str = person.json()["id"]
    given_ = client.post(
        f"/api/v1/people/{person_id}/consents",
        headers=officer.headers,
        json={"channels": channels, "granted_at": "2020-01-01"},
    )
    assert given_.status_code == 201, given_.text
    return person_id


def found_boxes(jpeg: bytes) -> tuple[list[Box], tuple[int, int]]:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    rgb = np.asarray(image.convert("RGB"))
    return [d.box for d in detect_faces(rgb)], (image.width, image.height)


def relative(face: dict, size: tuple[int, int]) -> Box:
    b = face["box"]
    return Box(b["x"] * size[0], b["y"] * size[1], b["w"] * size[0], b["h"] * size[1])


def refusing(error: dict) -> list[str]:
    """The codes of a 409's reasons that keep the asset back (not those that clear)."""
    return [r["code"] for r in error["reasons"] if r["code"] not in CLEARING]


def download(client: TestClient, account: Account, asset_id: str, query: str) -> object:
    return client.get(f"/api/v1/assets/{asset_id}/download?{query}", headers=account.headers)


def test_a_redacted_photo_hides_every_face_without_consent(
    client: TestClient,
    make_account: Callable[[Role], Account],
    rt: Runtime,
    dlib_faces: Path,
) -> None:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    asset = upload(client, creative, dlib_faces / "2008_002506.jpg")
    faces = sorted(asset["faces"], key=lambda f: f["box"]["x"])
    assert len(faces) == 3
    kept, others = faces[1], [faces[0], faces[2]]
    person_id = consented_person(client, officer, ["website"])
    confirmed = client.post(
        f"/api/v1/faces/{kept['id']}/confirm",
        headers=creative.headers,
        json={"person_id": person_id},
    )
    assert confirmed.status_code == 200, confirmed.text
    asset_id = asset["id"]

    # Without alt text the website refuses even a redacted version: blurring cannot fix it.
    refused = client.get(
        f"/api/v1/assets/{asset_id}/download?channel=website&redact=true",
        headers={**creative.headers, "Accept-Language": "en"},
    )
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "not_cleared"
    assert refusing(error) == ["alt_text_missing"]
    patched = client.patch(
        f"/api/v1/assets/{asset_id}",
        headers=creative.headers,
        json={"alt_text": "Three people at a table"},
    )
    assert patched.status_code == 200, patched.text

    # The plain download stays refused: two faces nobody identified.
    plain = client.get(
        f"/api/v1/assets/{asset_id}/download?channel=website", headers=creative.headers
    )
    assert plain.status_code == 409
    assert "faces_unidentified" in [r["code"] for r in plain.json()["error"]["reasons"]]

    redacted = client.get(
        f"/api/v1/assets/{asset_id}/download?channel=website&redact=true", headers=creative.headers
    )
    assert redacted.status_code == 200, redacted.text
    assert redacted.headers["content-type"] == "image/jpeg"
    assert "redacted" in redacted.headers["content-disposition"]
    boxes, size = found_boxes(redacted.content)
    # The detector finds the consented face where it was, and nothing where the others were.
    assert len(boxes) == 1, boxes
    assert iou(boxes[0], relative(kept, size)) > 0.5
    for other in others:
        assert all(iou(b, relative(other, size)) == 0.0 for b in boxes)
    # Before redaction the detector found all three on the same rendition.
    large = client.get(
        f"/api/v1/assets/{asset_id}/renditions/large", headers=officer.headers
    ).content
    assert len(found_boxes(large)[0]) == 3

    # Print is not covered by the consent: every face is blurred.
    print_version = client.get(
        f"/api/v1/assets/{asset_id}/download?channel=print&redact=true", headers=creative.headers
    )
    assert print_version.status_code == 200
    assert found_boxes(print_version.content)[0] == []

    # The same request again serves the same file, made once, kept apart from the originals.
    again = client.get(
        f"/api/v1/assets/{asset_id}/download?channel=website&redact=true", headers=creative.headers
    )
    assert again.content == redacted.content
    cached = list((rt.blobs.root / "cache" / "redacted").glob(f"{asset_id}-*.jpg"))
    assert len(cached) == 2
    # The download is made from the cached blurred file (same pixels size), with the
    # asset's metadata written into it (issue 14: every download carries its XMP).
    sizes = {Image.open(p).size for p in cached}
    assert Image.open(io.BytesIO(redacted.content)).size in sizes
    assert asset_id.encode() in redacted.content
    assert not any(rt.blobs.originals_dir in p.parents for p in cached)

    # Audited by ids: which faces were blurred for which channel; never a name.
    with rt.session() as session:
        entries = [
            e for e in session.exec(select(AuditEntry)) if e.action == "asset.downloaded_redacted"
        ]
    assert len(entries) == 3
    first = entries[0]
    assert first.subject_id == asset_id and first.actor_id == creative.user.id
    assert first.details["channel"] == "website"
    assert sorted(first.details["face_ids"]) == sorted(f["id"] for f in others)
    assert NAME not in " ".join(str(e.details) for e in entries)

    # Someone says the detector missed people: no redaction can fix that.
    client.patch(
        f"/api/v1/assets/{asset_id}",
        headers=creative.headers,
        json={"undetected_people": True},
    )
    missed = client.get(
        f"/api/v1/assets/{asset_id}/download?channel=website&redact=true", headers=creative.headers
    )
    assert missed.status_code == 409
    assert refusing(missed.json()["error"]) == ["people_not_detected"]


def test_a_redacted_download_needs_a_known_channel(
    client: TestClient, creative: Account, dlib_faces: Path
) -> None:
    asset = upload(client, creative, dlib_faces / "2008_001009.jpg")
    response = client.get(
        f"/api/v1/assets/{asset['id']}/download?channel=billboard&redact=true",
        headers=creative.headers,
    )
    assert response.status_code == 422
    assert "billboard" in response.json()["error"]["message"]


# --- videos: blurred along the track ------------------------------------------------------

FRAME_W, FRAME_H, FACE_EDGE, SECONDS = 640, 360, 180, 3.0


def clip_with_sound(directory: Path, photo: Path) -> Path:
    """A face photo drifting right over a plain background for three seconds, with a tone."""
    target = directory / f"redact-{hashlib.sha256(str(photo).encode()).hexdigest()[:12]}.mp4"
    if target.exists():
        return target
    graph = (
        f"[1:v]scale={FACE_EDGE}:{FACE_EDGE},setsar=1[f];"
        "[0:v][f]overlay=x='200+20*t':y=90:shortest=1[v]"
    )
    clips.run(
        [
            clips.ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c=0x203040:s={FRAME_W}x{FRAME_H}:r=25:d={SECONDS}",
            "-loop", "1", "-framerate", "25", "-t", str(SECONDS), "-i", str(photo),
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
            "-filter_complex", graph, "-map", "[v]", "-map", "2:a",
            *clips.H264, *clips.AAC, str(target),
        ]
    )  # fmt: skip
    return target


def faces_per_frame(path: Path) -> list[int]:
    binary = ffmpeg_binary()
    assert binary is not None
    frames = frames_every(
        binary,
        path,
        every_s=0.25,
        width=FRAME_W,
        height=FRAME_H,
        duration_s=SECONDS,
        limit=100,
    )
    assert len(frames) >= 10
    return [len(detect_faces(f.pixels)) for f in frames]


@pytest.mark.timeout(300)
def test_a_redacted_video_hides_the_face_through_its_track(
    rt: Runtime, client: TestClient, creative: Account, tmp_path_factory: pytest.TempPathFactory
) -> None:
    try:
        photo = faces_corpus.johns()["John_Salley"][0]
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    path = clip_with_sound(tmp_path_factory.mktemp("redact-clips"), photo)
    asset_id = clips.store(rt, path)
    assert clips.asset(rt, asset_id).status == "ready", clips.asset(rt, asset_id).error
    body = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
    (track,) = body["faces"]
    assert track["state"] == "unknown"

    plain = download(client, creative, asset_id, "channel=internal")
    assert plain.status_code == 409  # type: ignore[attr-defined]
    redacted = download(client, creative, asset_id, "channel=internal&redact=true")
    assert redacted.status_code == 200, redacted.text  # type: ignore[attr-defined]
    assert redacted.headers["content-type"] == "video/mp4"  # type: ignore[attr-defined]
    out = tmp_path_factory.mktemp("redacted") / "out.mp4"
    out.write_bytes(redacted.content)  # type: ignore[attr-defined]

    rendition = clips.renditions(rt, asset_id)
    source = rendition.get("web_1080") or rendition["web_720"]
    before = faces_per_frame(rt.blobs.root / source.path)
    assert sum(1 for n in before if n) >= len(before) * 0.8, before
    after = faces_per_frame(out)
    assert after == [0] * len(after), after

    with av.open(str(out)) as container:
        assert len(container.streams.audio) == 1
        assert len(container.streams.video) == 1
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (
            source.width,
            source.height,
        )
        assert float(container.duration or 0) / 1_000_000 == pytest.approx(SECONDS, abs=0.3)
