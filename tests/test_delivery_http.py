"""Downloads for a channel over HTTP, on both databases: presets, formats, crops that keep
faces whole, metadata read back with exiftool, GPS and serial numbers gone, refusals with
reasons, redacted versions, review requests, usages, and a selection as one ZIP."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyexiv2
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, col, select

from dam import auth, clock, migrate
from dam.crops import with_headroom
from dam.errors import InvalidInput
from dam.geometry import Box
from dam.jobs import StageContext
from dam.models import (
    AuditEntry,
    DownloadBatch,
    Face,
    FaceState,
    Job,
    Notification,
    Rendition,
    Role,
    Usage,
)
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from gdpr.consent import notifications
from gdpr.publishing import download_batches, download_packing
from gdpr.requests import erasure
from ingest.demo import exif_block, jpeg_bytes, scene, store_oriented
from tests import media
from tests.conftest import Account
from tests.feed_factories import make_user
from tests.privacy_setup import upload
from tests.test_image_formats import adobe_rgb_profile
from web.app import create_app

pytestmark = pytest.mark.one_database

CHANNEL = "intranet"  # cleared for a photo without people; no alt text needed
SERIAL = "SN-4711-0815"


def exiftool(data: bytes, tmp_path: Path, suffix: str) -> dict[str, Any]:
    """What exiftool reads in `data` (tags with their group names)."""
    tool = shutil.which("exiftool")
    assert tool, "exiftool is missing: scripts/test installs libimage-exiftool-perl"
    path = tmp_path / f"read{suffix}"
    path.write_bytes(data)
    out = subprocess.run(
        [tool, "-j", "-G1", "-a", "-struct", str(path)], capture_output=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout)[0]
    return result


def camera_jpeg(width: int, height: int, *, orientation: int = 6) -> bytes:
    """A camera-like JPEG: upright width x height stored rotated, with GPS, make, model
    and a body serial number."""
    data = media.jpeg(
        width, height, orientation=orientation, gps=(51.05, 3.72), make="Canon", model="EOS R6"
    )
    with pyexiv2.ImageData(data) as img:
        img.modify_exif({"Exif.Photo.BodySerialNumber": SERIAL})
        return bytes(img.get_bytes())


@pytest.fixture
def photo(client: TestClient, creative: Account) -> dict[str, Any]:
    asset = upload(client, creative, "strand.jpg", camera_jpeg(1200, 1800), "image/jpeg")
    patched = client.patch(
        f"/api/v1/assets/{asset['id']}",
        headers=creative.headers,
        json={
            "title": "Strand van Oostende",
            "description": "Een wandelaar op het strand bij zonsondergang.",
            "alt_text": "Een man wandelt over het strand, de zon gaat onder.",
            "tags": ["strand", "zee"],
            "licence": {
                "terms": "Enkel voor communicatie van de Vlaamse overheid",
                "url": "https://example.org/licentie",
                "credit": "Vlaamse overheid / Jan Fotograaf",
            },
        },
    )
    assert patched.status_code == 200, patched.text
    return dict(patched.json())


def _audits(rt: Runtime, action: str, asset_id: str) -> list[AuditEntry]:
    with rt.session() as session:
        return list(
            session.exec(
                select(AuditEntry).where(
                    col(AuditEntry.action) == action, col(AuditEntry.subject_id) == asset_id
                )
            )
        )


def test_a_square_download_carries_its_metadata_and_loses_location_and_serials(
    client: TestClient, rt: Runtime, creative: Account, photo: dict[str, Any], tmp_path: Path
) -> None:
    asset_id = photo["id"]
    response = client.get(
        f"/api/v1/assets/{asset_id}/download",
        params={"channel": CHANNEL, "preset": "square"},
        headers=creative.headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert "strand-intranet-square.jpg" in response.headers["content-disposition"]
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (1080, 1080)
    tags = exiftool(response.content, tmp_path, ".jpg")
    assert tags["XMP-dc:Title"] == "Strand van Oostende"
    assert tags["XMP-dc:Description"] == "Een wandelaar op het strand bij zonsondergang."
    assert tags["XMP-iptcExt:AltTextAccessibility"].startswith("Een man wandelt")
    assert tags["XMP-dc:Subject"] == ["strand", "zee"]
    assert tags["XMP-photoshop:Credit"] == "Vlaamse overheid / Jan Fotograaf"
    assert tags["XMP-xmpRights:UsageTerms"].startswith("Enkel voor communicatie")
    assert tags["XMP-xmpRights:WebStatement"] == "https://example.org/licentie"
    assert tags["XMP-beeldbank:AssetId"] == asset_id
    assert tags["XMP-beeldbank:AssetLink"].endswith(f"/assets/{asset_id}")
    assert tags["IPTC:ObjectName"] == "Strand van Oostende"
    assert tags["IPTC:Keywords"] == ["strand", "zee"]
    assert tags["IFD0:Orientation"] == "Horizontal (normal)"
    text = json.dumps(tags)
    assert "GPS" not in text and SERIAL not in text and "Canon" not in text
    entries = _audits(rt, "asset.downloaded", asset_id)
    assert [e.details["preset"] for e in entries] == ["square"]
    assert entries[0].details["channel"] == CHANNEL


def test_the_credit_line_is_the_credit_alone_and_fits_iptc_on_a_whole_word(
    client: TestClient, creative: Account, tmp_path: Path
) -> None:
    """The copyright notice has fields of its own: the credit does not repeat it (it did:
    "Vlaamse overheid · © Vlaamse overheid"), and IPTC IIM's 32-byte Credit ends on a
    whole word instead of "... © Vlaamse ove"."""
    data = media.jpeg(900, 600, copyright="© Stad Gent 2026", artist="Jan Fotograaf")
    asset = upload(client, creative, "gent.jpg", data, "image/jpeg")
    credit = "Vlaamse overheid, afdeling Communicatie"
    patched = client.patch(
        f"/api/v1/assets/{asset['id']}",
        headers=creative.headers,
        json={"licence": {"credit": credit}},
    )
    assert patched.status_code == 200, patched.text
    response = client.get(
        f"/api/v1/assets/{asset['id']}/download",
        params={"channel": CHANNEL, "preset": "web"},
        headers=creative.headers,
    )
    assert response.status_code == 200, response.text
    tags = exiftool(response.content, tmp_path, ".jpg")
    assert tags["XMP-photoshop:Credit"] == credit
    assert tags["XMP-dc:Rights"] == "© Stad Gent 2026"
    assert tags["IPTC:CopyrightNotice"] == "© Stad Gent 2026"
    assert tags["IPTC:Credit"] == "Vlaamse overheid, afdeling"


@pytest.mark.parametrize(
    ("preset", "fmt", "mime", "size"),
    [
        ("web", "webp", "image/webp", (1067, 1600)),
        ("story", "avif", "image/avif", (1012, 1800)),
        ("landscape", "png", "image/png", (1200, 675)),
        ("print", "tiff", "image/tiff", (1200, 1800)),
        ("custom", "jpeg", "image/jpeg", (300, 100)),
    ],
)
def test_every_format_carries_xmp(
    client: TestClient,
    creative: Account,
    photo: dict[str, Any],
    tmp_path: Path,
    preset: str,
    fmt: str,
    mime: str,
    size: tuple[int, int],
) -> None:
    params: dict[str, Any] = {"channel": CHANNEL, "preset": preset, "format": fmt}
    if preset == "custom":
        params |= {"width": 300, "height": 100}
    response = client.get(
        f"/api/v1/assets/{photo['id']}/download", params=params, headers=creative.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == mime
    image = Image.open(io.BytesIO(response.content))
    assert image.size == size  # never scaled up: a 1200 x 1800 photo
    tags = exiftool(response.content, tmp_path, "." + fmt)
    assert tags["XMP-dc:Title"] == "Strand van Oostende"
    assert tags["XMP-xmpRights:WebStatement"] == "https://example.org/licentie"
    assert "GPS" not in json.dumps(tags) and SERIAL not in json.dumps(tags)
    if preset == "print":
        assert image.info.get("icc_profile"), "print keeps (or gets) its ICC profile"


def test_the_original_loses_location_and_serials_but_keeps_its_pixels(
    client: TestClient,
    make_account: Callable[[Role], Account],
    creative: Account,
    photo: dict[str, Any],
    tmp_path: Path,
) -> None:
    viewer = make_account(Role.viewer)
    url = f"/api/v1/assets/{photo['id']}/download"
    refused = client.get(
        url, params={"channel": CHANNEL, "preset": "original"}, headers=viewer.headers
    )
    assert refused.status_code == 403
    got = client.get(
        url, params={"channel": CHANNEL, "preset": "original"}, headers=creative.headers
    )
    assert got.status_code == 200, got.text
    tags = exiftool(got.content, tmp_path, ".jpg")
    assert "GPS" not in json.dumps(tags) and SERIAL not in json.dumps(tags)
    assert tags["XMP-dc:Title"] == "Strand van Oostende"
    stored = client.get(f"/api/v1/assets/{photo['id']}/original", headers=creative.headers)
    assert (
        Image.open(io.BytesIO(got.content)).tobytes()
        == Image.open(io.BytesIO(stored.content)).tobytes()
    )


def test_a_channel_may_keep_gps(settings_factory: Callable[..., Settings], tmp_path: Path) -> None:
    settings = settings_factory(gps_channels="intranet")
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            user = make_user(runtime, Role.creative)
            with runtime.unit_of_work() as session:
                token = auth.create_token(session, user=user, name="t")
            account = Account(user, token)
            asset = upload(
                client, account, "gps.jpg", camera_jpeg(400, 300, orientation=1), "image/jpeg"
            )
            got = client.get(
                f"/api/v1/assets/{asset['id']}/download",
                params={"channel": "intranet", "preset": "web"},
                headers=account.headers,
            )
            assert got.status_code == 200, got.text
            tags = exiftool(got.content, tmp_path, ".jpg")
            assert tags["GPS:GPSLatitude"].startswith("51 deg 3'")
            other = client.get(
                f"/api/v1/assets/{asset['id']}/download",
                params={"channel": "internal", "preset": "web"},
                headers=account.headers,
            )
            assert "GPS" not in json.dumps(exiftool(other.content, tmp_path, ".jpg"))
    finally:
        runtime.close()


def _add_face(rt: Runtime, asset_id: str, box: Box, state: FaceState) -> str:
    with rt.unit_of_work() as session:
        face = Face(
            asset_id=asset_id,
            box_x=box.x,
            box_y=box.y,
            box_w=box.w,
            box_h=box.h,
            score=0.99,
            detector="test",
            state=state,
        )
        session.add(face)
        return face.id


def test_crops_keep_the_face_whole_and_a_chosen_crop_is_remembered(
    client: TestClient, rt: Runtime, creative: Account, photo: dict[str, Any]
) -> None:
    asset_id = photo["id"]
    face = Box(0.42, 0.04, 0.16, 0.1)  # the head of a standing man, at the top
    _add_face(rt, asset_id, face, FaceState.dismissed)  # counts for nothing in the verdict
    _add_face(rt, asset_id, face, FaceState.unknown)  # makes it `review`
    listed = client.get(f"/api/v1/assets/{asset_id}/crops", headers=creative.headers)
    assert listed.status_code == 200
    square = next(c for c in listed.json() if c["preset"] == "square")
    assert square["source"] == "faces" and square["faces_whole"]
    box = Box(square["x"], square["y"], square["w"], square["h"])
    assert box.contains(with_headroom(face))
    # Not cleared: explained, and the redacted version is offered and made in that crop.
    refused = client.get(
        f"/api/v1/assets/{asset_id}/download",
        params={"channel": CHANNEL, "preset": "square"},
        headers={**creative.headers, "Accept-Language": "nl"},
    )
    assert refused.status_code == 409
    assert [r["code"] for r in refused.json()["error"]["reasons"]] == ["faces_unidentified"]
    redacted = client.get(
        f"/api/v1/assets/{asset_id}/download",
        params={"channel": CHANNEL, "preset": "square", "redact": "true"},
        headers=creative.headers,
    )
    assert redacted.status_code == 200, redacted.text
    assert "redacted" in redacted.headers["content-disposition"]
    assert Image.open(io.BytesIO(redacted.content)).size == (1080, 1080)
    # A person chooses the lower half; later square downloads use it.
    saved = client.put(
        f"/api/v1/assets/{asset_id}/crops/square",
        headers=creative.headers,
        json={"x": 0.0, "y": 0.5, "w": 1.0, "h": 0.5},
    )
    assert saved.status_code == 200, saved.text
    assert not saved.json()["faces_whole"]  # the lower half leaves the head out
    again = client.get(f"/api/v1/assets/{asset_id}/crops", headers=creative.headers).json()
    chosen = next(c for c in again if c["preset"] == "square")
    assert chosen["source"] == "saved" and not chosen["faces_whole"]
    assert chosen["w"] * 1200 == pytest.approx(chosen["h"] * 1800, rel=1e-3)  # square
    bad = client.put(
        f"/api/v1/assets/{asset_id}/crops/web",
        headers=creative.headers,
        json={"x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0},
    )
    assert bad.status_code == 422


def test_a_review_request_notifies_the_privacy_officers_and_a_usage_is_recorded(
    client: TestClient, rt: Runtime, creative: Account, photo: dict[str, Any]
) -> None:
    asset_id = photo["id"]
    asked = client.post(
        f"/api/v1/assets/{asset_id}/review-requests",
        headers=creative.headers,
        json={"channel": "website"},
    )
    assert asked.status_code == 202, asked.text
    with rt.session() as session:
        notes = session.exec(select(Notification).where(Notification.subject_id == asset_id)).all()
    assert [(n.kind, n.params["channel"]) for n in notes] == [("asset.review_requested", "website")]
    social = client.post(
        f"/api/v1/assets/{asset_id}/review-requests",
        headers=creative.headers,
        json={"channel": "social"},
    )
    assert social.status_code == 202, social.text
    with rt.session() as session:
        note = session.exec(
            select(Notification).where(
                Notification.subject_id == asset_id, Notification.dedupe_key.contains("social")
            )
        ).one()
    # The officers read the channel's name, not its code.
    assert notifications.text(note, "nl", "Europe/Brussels").endswith(
        "voor het kanaal sociale media."
    )
    assert notifications.text(note, "en", "Europe/Brussels").endswith(
        "for the channel social media."
    )
    got = client.get(
        f"/api/v1/assets/{asset_id}/download",
        params={"channel": CHANNEL, "preset": "web", "usage": "https://www.vlaanderen.be/strand"},
        headers=creative.headers,
    )
    assert got.status_code == 200
    with rt.session() as session:
        used = session.exec(select(Usage).where(Usage.asset_id == asset_id)).all()
    assert [(u.channel, u.url) for u in used] == [(CHANNEL, "https://www.vlaanderen.be/strand")]


def test_a_selection_leaves_as_one_zip_with_a_manifest(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    make_account: Callable[[Role], Account],
    photo: dict[str, Any],
) -> None:
    second = upload(client, creative, "tweede.jpg", media.jpeg(800, 600, seed=5), "image/jpeg")
    blocked = upload(client, creative, "derde.jpg", media.jpeg(700, 500, seed=6), "image/jpeg")
    _add_face(rt, blocked["id"], Box(0.4, 0.3, 0.1, 0.15), FaceState.unknown)
    ids = [photo["id"], second["id"], blocked["id"], "0" * 26]
    asked = client.post(
        "/api/v1/downloads",
        headers=creative.headers,
        json={"asset_ids": ids, "channel": CHANNEL, "preset": "web"},
    )
    assert asked.status_code == 202, asked.text
    batch_id = asked.json()["id"]
    status = client.get(f"/api/v1/downloads/{batch_id}", headers=creative.headers).json()
    assert status["status"] == "done" and status["progress"] == 1.0  # an inline queue
    assert (status["done"], status["total"], status["included"]) == (4, 4, 2)
    other = make_account(Role.viewer)
    assert client.get(status["file_url"], headers=other.headers).status_code == 404
    got = client.get(status["file_url"], headers=creative.headers)
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    names = archive.namelist()
    assert "manifest.csv" in names and "README.txt" in names
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    # A script that states no language gets English (API.md), headings included.
    outcomes = {r["Beeldbank id"]: r for r in rows}
    assert outcomes[photo["id"]]["Result"] == "included"
    assert outcomes[second["id"]]["Result"] == "included"
    assert outcomes[blocked["id"]]["Title"] == "derde.jpg"  # untitled: its file name
    assert outcomes[blocked["id"]]["Result"] == "left out"
    assert outcomes[blocked["id"]]["Reason"].startswith("1 face not identified yet")
    assert outcomes["0" * 26]["Result"] == "not found"
    readme = archive.read("README.txt").decode()
    assert readme.startswith("Beeldbank – download") and "this ZIP holds 2 of them" in readme
    pictures = [n for n in names if n.endswith(".jpg")]
    assert len(pictures) == 2
    for name in pictures:
        assert max(Image.open(io.BytesIO(archive.read(name))).size) <= 1600
    # The job is the batch's, no asset's: none of the assets lists it, and deleting one
    # would not take the job along.
    with rt.session() as session:
        job = session.exec(select(Job).where(Job.stage == download_batches.ZIP_TASK)).one()
        assert job.asset_id is None and job.params == {"batch_id": batch_id, "lang": "en"}
    for asset_id in ids[:3]:
        listed = client.get(f"/api/v1/jobs?asset_id={asset_id}", headers=creative.headers)
        assert listed.status_code == 200
        assert download_batches.ZIP_TASK not in {j["stage"] for j in listed.json()}
    # Every file went through the gate, each download audited.
    assert len(_audits(rt, "asset.downloaded", photo["id"])) == 1
    assert len(_audits(rt, "asset.downloaded", blocked["id"])) == 0
    # With redact, the blocked one comes blurred.
    again = client.post(
        "/api/v1/downloads",
        headers=creative.headers,
        json={"asset_ids": [blocked["id"]], "channel": CHANNEL, "preset": "square", "redact": True},
    )
    body = client.get(f"/api/v1/downloads/{again.json()['id']}", headers=creative.headers).json()
    assert [o["outcome"] for o in body["outcomes"]] == ["redacted"]


@pytest.mark.parametrize(
    ("language", "expected", "foreign"),
    [
        (
            "nl-BE,nl;q=0.9",
            {
                "headings": ["Beeldbank-id", "Titel", "Bestand", "Resultaat", "Reden"],
                "results": ["toegevoegd", "weggelaten", "niet gevonden"],
                "reason": "1 gezicht nog niet herkend: wie staat erop?",
                "readme": "Er werden 3 beelden gevraagd voor het kanaal “intranet” in het "
                "formaat “Vierkant (1080 × 1080)”; deze ZIP bevat er 1.",
                "other_readme": "3 pictures were asked for, for the channel “intranet” in the "
                "size “Square (1080 × 1080)”; this ZIP holds 1 of them.",
            },
            ["face", "picture", "included", "left out", "Reason", "Square", "channel"],
        ),
        (
            "en-GB",
            {
                "headings": ["Beeldbank id", "Title", "File", "Result", "Reason"],
                "results": ["included", "left out", "not found"],
                "reason": "1 face not identified yet: who is this?",
                "readme": "3 pictures were asked for, for the channel “intranet” in the size "
                "“Square (1080 × 1080)”; this ZIP holds 1 of them.",
                "other_readme": "Er werden 3 beelden gevraagd voor het kanaal “intranet” in "
                "het formaat “Vierkant (1080 × 1080)”; deze ZIP bevat er 1.",
            },
            ["gezicht", "beelden", "toegevoegd", "weggelaten", "Reden", "Vierkant", "kanaal"],
        ),
    ],
)
def test_a_zips_manifest_and_readme_speak_the_requesters_language(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    photo: dict[str, Any],
    language: str,
    expected: dict[str, Any],
    foreign: list[str],
) -> None:
    """Every heading, result and reason of the manifest, and the README's first part, in
    the language the ZIP was asked in (issue 15: reasons used to mix Dutch and English);
    the README's second part in the other language (issue 14: Dutch and English)."""
    blocked = upload(client, creative, "derde.jpg", media.jpeg(700, 500, seed=6), "image/jpeg")
    _add_face(rt, blocked["id"], Box(0.4, 0.3, 0.1, 0.15), FaceState.unknown)
    headers = {**creative.headers, "Accept-Language": language}
    asked = client.post(
        "/api/v1/downloads",
        headers=headers,
        json={
            "asset_ids": [photo["id"], blocked["id"], "0" * 26],
            "channel": CHANNEL,
            "preset": "square",
        },
    )
    assert asked.status_code == 202, asked.text
    status = client.get(asked.headers["location"], headers=headers).json()
    archive = zipfile.ZipFile(io.BytesIO(client.get(status["file_url"], headers=headers).content))
    rows = list(csv.reader(io.StringIO(archive.read("manifest.csv").decode())))
    assert rows[0] == expected["headings"]
    assert [r[3] for r in rows[1:]] == expected["results"]
    assert rows[2][4] == expected["reason"]
    # The README in the requester's language first, then in the other one (whoever the
    # ZIP is passed on to may read that); each part in one language.
    first, second = archive.read("README.txt").decode().split(download_packing.README_SEPARATOR)
    assert expected["readme"] in first
    assert expected["other_readme"] in second
    for word in foreign:
        assert word not in first and word not in archive.read("manifest.csv").decode(), word
    # The API keeps its codes; the page shows the results in the reader's language.
    assert [o["outcome"] for o in status["outcomes"]] == ["included", "left_out", "not_found"]
    assert [o["reason"] for o in status["outcomes"]][1] == expected["reason"]


def test_a_zip_is_removed_after_a_day(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    photo: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = client.post(
        "/api/v1/downloads",
        headers=creative.headers,
        json={"asset_ids": [photo["id"]], "channel": CHANNEL},
    )
    file_url = client.get(asked.headers["location"], headers=creative.headers).json()["file_url"]
    assert client.get(file_url, headers=creative.headers).status_code == 200
    zips = list((rt.blobs.root / "cache" / "downloads").glob("*.zip"))
    assert len(zips) == 1
    later = clock.now() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    download_batches.prune(rt)
    assert not zips[0].exists()
    gone = client.get(file_url, headers=creative.headers)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "gone"


def test_a_zip_packed_while_someone_in_it_is_erased_is_dropped(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    make_account: Callable[[Role], Account],
    photo: dict[str, Any],
) -> None:
    """The erasure withdraws the ZIP while its packer is half way (after the person's
    photo went in): the packer finishes, sees that, and removes its file; the row stays
    withdrawn and the file answers 410."""
    officer = make_account(Role.privacy_officer)
    theirs = upload(client, creative, "portret.jpg", media.jpeg(900, 600, seed=9), "image/jpeg")
    person = client.post("/api/v1/people", headers=officer.headers, json={"name": "Oda Vlq"})
    person_id = person.json()["id"]
    face_id = _add_face(rt, theirs["id"], Box(0.4, 0.2, 0.2, 0.3), FaceState.unknown)
    confirmed = client.post(
        f"/api/v1/faces/{face_id}/confirm", headers=creative.headers, json={"person_id": person_id}
    )
    assert confirmed.status_code == 200, confirmed.text
    consent = client.post(
        f"/api/v1/people/{person_id}/consents",
        headers=officer.headers,
        json={"channels": [CHANNEL], "granted_at": "2026-01-05"},
    )
    assert consent.status_code == 201, consent.text
    with Session(rt.engine, expire_on_commit=False) as session:  # no queue: we run it
        batch = download_batches.create_batch(
            session,
            data=download_batches.BatchInput(
                asset_ids=[theirs["id"], photo["id"]], channel=CHANNEL
            ),
            actor=creative.user,
            settings=rt.settings,
        )
        job = session.exec(select(Job).where(Job.stage == download_batches.ZIP_TASK)).one()
    erased: list[str] = []

    def progress(fraction: float) -> None:
        """Reported once a file is in the archive: after the first, the erasure runs."""
        if erased:
            return
        with rt.session() as session:
            summary = erasure.erase_person(
                session,
                person_id=person_id,
                assets=erasure.AssetsChoice.redact,
                actor=officer.user,
                blobs=rt.blobs,
                settings=rt.settings,
            )
        erased.extend(summary.downloads_withdrawn)

    ctx = StageContext(
        job_id=job.id,
        asset_id="",
        runtime=rt,
        report_progress=progress,
        params={"batch_id": batch.id},
    )
    download_packing.pack_download(ctx)
    assert erased == [batch.id]
    with rt.session() as session:
        row = session.get(DownloadBatch, batch.id)
        assert row is not None
        assert (row.status, row.path, row.error) == ("expired", None, download_batches.WITHDRAWN)
        assert row.done == 2  # it did finish packing
    assert list(download_batches.zip_dir(rt.blobs).iterdir()) == []
    gone = client.get(f"/api/v1/downloads/{batch.id}/file", headers=creative.headers)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "gone"


def test_too_large_a_selection_is_refused(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory()
    data = download_batches.BatchInput(asset_ids=[str(i) for i in range(501)], channel="internal")
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    try:
        user = make_user(runtime, Role.viewer)
        with runtime.session() as session, pytest.raises(InvalidInput, match="at most 500"):
            download_batches.create_batch(session, data=data, actor=user, settings=settings)
    finally:
        runtime.close()


def test_an_original_that_cannot_be_cleaned_is_not_sent(tmp_path: Path) -> None:
    """HEIC originals cannot be written by libexiv2: the original preset refuses them
    (422) rather than send their GPS; a JPEG is cleaned."""
    import pillow_heif

    from dam import file_metadata

    pillow_heif.register_heif_opener()
    heic = tmp_path / "a.heic"
    Image.new("RGB", (64, 64), "red").save(heic, "HEIF")
    assert file_metadata.scrub_original(heic, file_metadata.FileMetadata(title="t")) is False
    jpeg = tmp_path / "a.jpg"
    with Image.open(io.BytesIO(camera_jpeg(200, 100, orientation=1))) as camera:
        camera.save(jpeg, "JPEG", exif=camera.info["exif"], comment=f"Body {SERIAL}".encode())
    assert SERIAL.encode() in jpeg.read_bytes()
    assert file_metadata.scrub_original(jpeg, file_metadata.FileMetadata(title="Zee")) is True
    tags = exiftool(jpeg.read_bytes(), tmp_path, ".jpg")
    assert "GPS" not in json.dumps(tags) and SERIAL not in json.dumps(tags)
    assert SERIAL.encode() not in jpeg.read_bytes()  # the comment segment too
    assert tags["XMP-dc:Title"] == "Zee"


def test_a_download_made_from_the_large_rendition_is_the_one_made_from_the_original(
    client: TestClient, rt: Runtime, creative: Account, tmp_path: Path
) -> None:
    """A camera photo larger than the `large` rendition, stored turned and in Adobe RGB:
    the square (a crop chosen off the centre) and web downloads made from the rendition
    have the crop, size, metadata and picture of the ones made from the original (which
    they are made from when the rendition's file is missing)."""
    upright = scene(3000, 2000, seed=11)
    exif = exif_block(orientation=6, gps=(51.05, 3.72), make="Canon", model="EOS R6")
    data = jpeg_bytes(store_oriented(upright, 6), exif=exif, icc_profile=adobe_rgb_profile())
    with pyexiv2.ImageData(data) as img:
        img.modify_exif({"Exif.Photo.BodySerialNumber": SERIAL})
        data = bytes(img.get_bytes())
    asset_id = upload(client, creative, "markt.jpg", data, "image/jpeg")["id"]
    patched = client.patch(
        f"/api/v1/assets/{asset_id}",
        headers=creative.headers,
        json={"title": "Markt", "alt_text": "Een marktplein", "tags": ["markt"]},
    )
    assert patched.status_code == 200, patched.text
    chosen = client.put(
        f"/api/v1/assets/{asset_id}/crops/square",
        headers=creative.headers,
        json={"x": 0.4, "y": 0.1, "w": 0.6, "h": 0.9},
    )
    assert chosen.status_code == 200, chosen.text
    with rt.session() as session:
        large = session.exec(
            select(Rendition).where(Rendition.asset_id == asset_id, Rendition.name == "large")
        ).one()
    assert (large.width, large.height) == (2560, 1707)  # smaller than the original

    def download(preset: str) -> bytes:
        got = client.get(
            f"/api/v1/assets/{asset_id}/download",
            params={"channel": CHANNEL, "preset": preset},
            headers=creative.headers,
        )
        assert got.status_code == 200, got.text
        return got.content

    from_large = {preset: download(preset) for preset in ("square", "web")}
    (rt.blobs.root / large.path).unlink()
    from_original = {preset: download(preset) for preset in ("square", "web")}

    described = ("XMP-", "IPTC", "IFD0", "GPS", "ExifIFD")
    for preset, made in from_large.items():
        image, reference = (
            Image.open(io.BytesIO(made)),
            Image.open(io.BytesIO(from_original[preset])),
        )
        assert image.size == reference.size == {"square": (1080, 1080), "web": (1600, 1067)}[preset]
        assert "icc_profile" not in image.info and "icc_profile" not in reference.info  # sRGB
        pixels = np.asarray(image, np.int16)
        expected = np.asarray(reference, np.int16)
        assert float(np.abs(pixels - expected).mean()) < 2.0, preset
        assert made != from_original[preset]  # made from another file: the rendition
        tags = {
            k: v for k, v in exiftool(made, tmp_path, ".jpg").items() if k.startswith(described)
        }
        assert tags == {
            k: v
            for k, v in exiftool(from_original[preset], tmp_path, ".jpg").items()
            if k.startswith(described)
        }
        assert tags["XMP-iptcExt:AltTextAccessibility"] == "Een marktplein"
        assert tags["XMP-beeldbank:AssetId"] == asset_id
        assert "GPS" not in json.dumps(tags) and SERIAL not in json.dumps(tags)
    crops = [e.details["crop"] for e in _audits(rt, "asset.downloaded", asset_id)]
    assert crops[0] == crops[2] and crops[1] == crops[3] == "0.0000,0.0000,1.0000,1.0000"
