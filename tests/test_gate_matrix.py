"""Every byte route, every role, every asset state: the gate's answer, generated.

One library per database (module scope) holds a photo and a video in each state
(cleared, review, blocked, embargoed, restricted, deleted), built with the services and
real small files rather than the ingest pipeline. Each byte route is then asked for by
anonymous, viewer, creative, privacy officer and admin for every state; the expected
status comes from a few rules (`expected`), not a hand-written table, and a 2xx that sends
bytes must leave its audit entry where bytes leave the system (and a refusal none).

The list of cases must cover exactly the byte routes tests/test_gate_routes.py finds in
the app, so a new byte route fails here until it is part of the matrix. A last sweep runs
every GET route of the app and fails for any answer carrying bytes that no Release was
made for during the request.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from dam import assets as asset_service
from dam import auth, clock, migrate
from dam.auth import PERMISSIONS
from dam.models import (
    Asset,
    AssetKind,
    AssetStatus,
    AuditEntry,
    Caption,
    Face,
    FaceState,
    LicenceStatus,
    Person,
    Rendition,
    Role,
    ShareLink,
    User,
)
from dam.runtime import Runtime, build_runtime
from dam.settings import load_settings
from gdpr import gate
from gdpr.judgement import verdicts
from gdpr.publishing import download_batches, shares
from gdpr.requests import person_requests
from tests import media, video_clips
from tests.conftest import PG_URL, unavailable
from tests.test_gate_routes import byte_routes, endpoints
from web.app import create_app

STATES = ("cleared", "review", "blocked", "embargoed", "restricted", "deleted")
ROLES: tuple[Role | None, ...] = (
    None,
    Role.viewer,
    Role.creative,
    Role.privacy_officer,
    Role.admin,
)
CHANNEL = "website"
VTT = "WEBVTT\n\n00:00.000 --> 00:00.800\nGoedemorgen\n"


# --- the library --------------------------------------------------------------------------


@dataclass
class Item:
    """One asset in one state, with what the routes need of it."""

    asset_id: str
    face_id: str
    token: str  # a share link for CHANNEL


@dataclass
class World:
    rt: Runtime
    client: TestClient
    headers: dict[Role | None, dict[str, str]]
    photos: dict[str, Item]
    videos: dict[str, Item]
    person_id: str
    export_job_id: str  # an access export an officer started: its ZIP waits 24 hours
    missing_404: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    data = tmp_path_factory.mktemp(f"gate-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{data / 'beeldbank.db'}"
    else:
        problem = request.getfixturevalue("pg_problem")
        if problem:
            unavailable(problem)
        schema = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    rt = build_runtime(
        load_settings(data_dir=data / "data", database_url=url, queue_url="immediate://")
    )
    migrate.upgrade(rt.engine)
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            yield build_world(rt, client, data)
    finally:
        rt.close()
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def build_world(rt: Runtime, client: TestClient, scratch: Path) -> World:
    headers: dict[Role | None, dict[str, str]] = {None: {}}
    with rt.session() as session:
        owner = _user(session, Role.creative)  # none of the roles asking owns the assets
        for role in Role:
            token = auth.create_token(session, user=_user(session, role), name="gate")
            headers[role] = {"Authorization": f"Bearer {token}"}
        person = Person(name="Gate Person")
        session.add(person)
        session.commit()
        files = _files(scratch)
        photos = {
            s: _item(rt, session, s, AssetKind.image, owner, person.id, files) for s in STATES
        }
        videos = {
            s: _item(rt, session, s, AssetKind.video, owner, person.id, files) for s in STATES
        }
        for kind, items in ((AssetKind.image, photos), (AssetKind.video, videos)):
            _check_states(rt, session, kind, items)
        person_id = person.id
        officer = _user(session, Role.privacy_officer)
        # The immediate queue runs the export job as it is committed.
        job = person_requests.request_export(session, person_id=person_id, actor=officer)
    return World(rt, client, headers, photos, videos, person_id, job.id)


def _user(session: Session, role: Role) -> User:
    return auth.create_user(
        session,
        email=f"{role.value}-{secrets.token_hex(4)}@example.test",
        password="correct horse battery",
        role=role,
    )


def _files(scratch: Path) -> dict[str, Path]:
    """The small real files every asset reuses: a photo and a one-second video."""
    photo = scratch / "photo.jpg"
    photo.write_bytes(media.jpeg(320, 240, seed=7))
    clip = video_clips.render(video_clips.Clip("gate", size="160x120", seconds=1.0), scratch)
    vtt = scratch / "storyboard.vtt"
    vtt.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nstoryboard.jpg#xywh=0,0,160,120\n")
    return {"photo": photo, "clip": clip, "storyboard_vtt": vtt}


RENDITIONS = {
    AssetKind.image: {"thumb": "photo", "preview": "photo", "large": "photo"},
    AssetKind.video: {
        "thumb": "photo",
        "poster": "photo",
        "storyboard": "photo",
        "storyboard_vtt": "storyboard_vtt",
        "web_720": "clip",
        "web_1080": "clip",
    },
}
MIME = {"photo": "image/jpeg", "clip": "video/mp4", "storyboard_vtt": "text/vtt"}


def _item(
    rt: Runtime,
    session: Session,
    state: str,
    kind: AssetKind,
    owner: User,
    person_id: str,
    files: dict[str, Path],
) -> Item:
    source = files["photo" if kind == AssetKind.image else "clip"]
    stored = rt.blobs.put_stream([source.read_bytes(), secrets.token_bytes(16)])
    asset = Asset(
        kind=kind,
        status=AssetStatus.ready,
        filename=f"{state}.{'jpg' if kind == AssetKind.image else 'mp4'}",
        mime="image/jpeg" if kind == AssetKind.image else "video/mp4",
        size=stored.size,
        sha256=stored.sha256,
        width=320 if kind == AssetKind.image else 160,
        height=240 if kind == AssetKind.image else 120,
        duration_s=1.0 if kind == AssetKind.video else None,
        alt_text="Een testbeeld",
        owner_id=owner.id,
        faces_checked_at=clock.now(),
        embargo_until=clock.now() + timedelta(days=365) if state == "embargoed" else None,
        restricted=state == "restricted",
        licence_status=LicenceStatus.own,  # the matrix is about faces and embargoes
    )
    session.add(asset)
    session.flush()
    derived = rt.blobs.derived_dir(asset.id)
    derived.mkdir(parents=True)
    for name, what in RENDITIONS[kind].items():
        target = derived / f"{name}{files[what].suffix}"
        shutil.copyfile(files[what], target)
        session.add(
            Rendition(
                asset_id=asset.id,
                name=name,
                mime=MIME[what],
                width=asset.width or 0,
                height=asset.height or 0,
                size=target.stat().st_size,
                sha256=secrets.token_hex(32),
                path=str(target.relative_to(rt.blobs.root)),
            )
        )
    # The face decides the state: not looked at (review), someone without consent
    # (blocked), or dismissed (counts for nothing, but its crop is there to ask for).
    face_state = {"review": FaceState.unknown, "blocked": FaceState.confirmed}
    crop = derived / "face.jpg"
    shutil.copyfile(files["photo"], crop)
    face = Face(
        asset_id=asset.id,
        box_x=0.3,
        box_y=0.3,
        box_w=0.3,
        box_h=0.3,
        time_s=0.0 if kind == AssetKind.video else None,
        time_end_s=0.9 if kind == AssetKind.video else None,
        score=0.99,
        detector="test",
        state=face_state.get(state, FaceState.dismissed),
        person_id=person_id if state == "blocked" else None,
        crop_path=str(crop.relative_to(rt.blobs.root)),
    )
    session.add(face)
    if kind == AssetKind.video:
        session.add(
            Caption(
                asset_id=asset.id,
                language="nl",
                label="Nederlands",
                source_format="vtt",
                vtt=VTT,
                cue_count=1,
                sha256=secrets.token_hex(32),
            )
        )
    token = shares.new_token()
    session.add(ShareLink(token_hash=shares.token_hash(token), asset_id=asset.id, channel=CHANNEL))
    session.commit()
    item = Item(asset.id, face.id, token)
    if state == "deleted":
        asset_service.delete_asset(session, asset_id=asset.id, actor=owner, blobs=rt.blobs)
    return item


def _check_states(rt: Runtime, session: Session, kind: AssetKind, items: dict[str, Item]) -> None:
    """The library is what the matrix assumes: each state's verdict for CHANNEL."""
    want = {"cleared": "cleared", "review": "review", "blocked": "blocked"}
    want |= {"embargoed": "blocked", "restricted": "blocked"}
    for state, status in want.items():
        verdict = verdicts.current(session, items[state].asset_id, CHANNEL, settings=rt.settings)
        assert verdict is not None and verdict.status == status, (kind, state, verdict)
    assert session.get(Asset, items["deleted"].asset_id) is None


# --- the cases ----------------------------------------------------------------------------

# What the bytes are for decides what the gate asks of the verdict.
DISPLAY = "display"  # the app's own display sizes: visible is enough
INTERNAL = "internal"  # leaves the system: cleared for internal use, officers excepted
CHANNEL_DOWNLOAD = "channel"  # cleared for the channel, whoever asks
REDACTED = "redacted"  # cleared once the faces not cleared are blurred
PUBLIC = "public"  # a share link: cleared for its channel, asked anonymously
ARCHIVE = "archive"  # a selection's ZIP: only whoever asked for it (each file judged inside)
EXPORT = "export"  # a person's data: no asset state involved


@dataclass(frozen=True)
class Case:
    id: str
    route: str  # the route's path as the app declares it
    kind: AssetKind
    purpose: str
    url: Callable[[Item, World], str]
    permission: str | None = None  # None: public
    audit: str | None = None  # the entry a release leaves


def _asset(suffix: str) -> Callable[[Item, World], str]:
    return lambda item, _: f"/api/v1/assets/{item.asset_id}/{suffix}"


def _archive(item: Item, world: World) -> str:
    """A ZIP the viewer asked for, of this asset and the cleared photo (its anchor)."""
    with world.rt.session() as session:
        viewer = session.exec(select(User).where(User.role == Role.viewer)).one()
        data = download_batches.BatchInput(
            asset_ids=[item.asset_id, world.photos["cleared"].asset_id], channel=CHANNEL
        )
        batch = download_batches.create_batch(
            session, data=data, actor=viewer, settings=world.rt.settings
        )
        return f"/api/v1/downloads/{batch.id}/file"


def _share(suffix: str) -> Callable[[Item, World], str]:
    return lambda item, _: f"/s/{item.token}/{suffix}"


RENDITION = "/api/v1/assets/{asset_id}/renditions/{name}"
DOWNLOAD = "/api/v1/assets/{asset_id}/download"
CAPTIONS = "/api/v1/assets/{asset_id}/captions/{language}"
IMAGE, VIDEO = AssetKind.image, AssetKind.video
READ = "assets.download_rendition"
CASES = (
    Case("thumb", RENDITION, IMAGE, DISPLAY, _asset("renditions/thumb"), READ),
    Case("large", RENDITION, IMAGE, INTERNAL, _asset("renditions/large"), READ),
    Case("poster", RENDITION, VIDEO, DISPLAY, _asset("renditions/poster"), READ),
    Case("storyboard_vtt", RENDITION, VIDEO, DISPLAY, _asset("renditions/storyboard_vtt"), READ),
    Case("web_720", RENDITION, VIDEO, DISPLAY, _asset("renditions/web_720"), READ),
    Case("web_1080", RENDITION, VIDEO, INTERNAL, _asset("renditions/web_1080"), READ),
    Case(
        "original",
        "/api/v1/assets/{asset_id}/original",
        IMAGE,
        INTERNAL,
        _asset("original"),
        "assets.download_original",
        "asset.original_downloaded",
    ),
    Case(
        "download",
        DOWNLOAD,
        IMAGE,
        CHANNEL_DOWNLOAD,
        _asset(f"download?channel={CHANNEL}"),
        READ,
        "asset.downloaded",
    ),
    Case(
        "redacted",
        DOWNLOAD,
        IMAGE,
        REDACTED,
        _asset(f"download?channel={CHANNEL}&redact=true"),
        READ,
        "asset.downloaded_redacted",
    ),
    Case(
        "preset_download",
        DOWNLOAD,
        IMAGE,
        CHANNEL_DOWNLOAD,
        _asset(f"download?channel={CHANNEL}&preset=square&format=webp"),
        READ,
        "asset.downloaded",
    ),
    Case(
        "preset_redacted",
        DOWNLOAD,
        IMAGE,
        REDACTED,
        _asset(f"download?channel={CHANNEL}&redact=true&preset=portrait&crop=0,0,1,1"),
        READ,
        "asset.downloaded_redacted",
    ),
    Case(
        "video_preset",
        DOWNLOAD,
        VIDEO,
        CHANNEL_DOWNLOAD,
        _asset(f"download?channel={CHANNEL}&preset=web_720"),
        READ,
        "asset.downloaded",
    ),
    Case(
        "video_captioned",
        DOWNLOAD,
        VIDEO,
        CHANNEL_DOWNLOAD,
        _asset(f"download?channel={CHANNEL}&preset=web_720&captions=nl"),
        READ,
        "asset.downloaded",
    ),
    Case(
        "archive",
        "/api/v1/downloads/{batch_id}/file",
        IMAGE,
        ARCHIVE,
        _archive,
        READ,
    ),
    Case(
        "video_download",
        DOWNLOAD,
        VIDEO,
        CHANNEL_DOWNLOAD,
        _asset(f"download?channel={CHANNEL}"),
        READ,
        "asset.downloaded",
    ),
    Case(
        "captioned",
        "/api/v1/assets/{asset_id}/captioned/{name}",
        VIDEO,
        INTERNAL,
        _asset("captioned/web_1080"),
        READ,
        "asset.captioned_downloaded",
    ),
    Case("captions_vtt", CAPTIONS, VIDEO, DISPLAY, _asset("captions/nl"), READ),
    Case(
        "captions_srt",
        CAPTIONS,
        VIDEO,
        INTERNAL,
        _asset("captions/nl?format=srt"),
        READ,
        "asset.captions_downloaded",
    ),
    Case(
        "face_crop",
        "/api/v1/faces/{face_id}/crop",
        IMAGE,
        DISPLAY,
        lambda item, _: f"/api/v1/faces/{item.face_id}/crop",
        "people.read",
    ),
    Case(
        "export",
        "/api/v1/people/{person_id}/export",
        IMAGE,
        EXPORT,
        lambda _, world: f"/api/v1/people/{world.person_id}/export",
        "privacy.export",
        "person.exported",
    ),
    Case(
        "prepared_export",
        "/api/v1/privacy/exports/{job_id}",
        IMAGE,
        EXPORT,
        lambda _, world: f"/api/v1/privacy/exports/{world.export_job_id}",
        "privacy.export",
        "person.export_downloaded",
    ),
    Case("share_file", "/s/{token}/file", IMAGE, PUBLIC, _share("file")),
    Case("share_video", "/s/{token}/file", VIDEO, PUBLIC, _share("file")),
    Case("share_poster", "/s/{token}/poster", VIDEO, PUBLIC, _share("poster")),
    Case(
        "share_download",
        "/s/{token}/download",
        IMAGE,
        PUBLIC,
        _share("download"),
        audit="share.downloaded",
    ),
    Case(
        "share_captions",
        "/s/{token}/captions/{language}.vtt",
        VIDEO,
        PUBLIC,
        _share("captions/nl.vtt"),
    ),
)


def expected(case: Case, role: Role | None, state: str) -> int:
    """The status the gate's rules give (the route's permission is checked first)."""
    if case.purpose == PUBLIC:  # anyone holding the link; evidence is never shared
        if state in ("deleted", "restricted"):
            return 404
        return 200 if state == "cleared" else 409
    if role is None:
        return 401
    if not role.includes(PERMISSIONS[case.permission or ""]):
        return 403
    officer = role.includes(Role.privacy_officer)
    if case.purpose == EXPORT:
        return 200
    if case.purpose == ARCHIVE:  # the ZIP exists whatever the asset's state
        return 200 if role == Role.viewer else 404
    if state == "deleted" or (state == "restricted" and not officer):
        return 404  # exactly like an id that never existed
    if case.purpose == DISPLAY:
        return 200
    if case.purpose == INTERNAL:
        return 200 if state == "cleared" or officer else 409
    if case.purpose == CHANNEL_DOWNLOAD:
        return 200 if state == "cleared" else 409
    assert case.purpose == REDACTED  # blurring fixes faces, not an embargo or evidence
    return 200 if state in ("cleared", "review", "blocked") else 409


def test_the_cases_cover_every_byte_route(world: World) -> None:
    found = byte_routes(world.client.app)  # type: ignore[arg-type]
    assert {("GET", case.route) for case in CASES} == found


def _audit_count(session: Session, action: str, subject_id: str) -> int:
    query = select(func.count()).where(
        col(AuditEntry.action) == action, col(AuditEntry.subject_id) == subject_id
    )
    return int(session.exec(query).one())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_role_and_state(world: World, case: Case) -> None:
    items = world.photos if case.kind == AssetKind.image else world.videos
    roles = (None,) if case.purpose == PUBLIC else ROLES
    states = ("cleared",) if case.purpose == EXPORT else STATES
    wrong: list[str] = []
    refusals: dict[tuple[Role | None, str], Any] = {}
    for state in states:
        item = items[state]
        subject = world.person_id if case.purpose == EXPORT else item.asset_id
        for role in roles:
            with world.rt.session() as session:
                before = _audit_count(session, case.audit, subject) if case.audit else 0
            response = world.client.get(case.url(item, world), headers=world.headers[role])
            want = expected(case, role, state)
            where = f"{case.id} {state} as {role.value if role else 'anonymous'}"
            if response.status_code != want:
                wrong.append(f"{where}: {response.status_code} (expected {want})")
                continue
            if case.audit:
                with world.rt.session() as session:
                    after = _audit_count(session, case.audit, subject)
                if after - before != (1 if want == 200 else 0):
                    wrong.append(f"{where}: {after - before} {case.audit} entries")
            if want == 200:
                assert response.content, where
                assert "json" not in response.headers["content-type"], where
            elif want in (404, 409) and case.purpose != PUBLIC:
                refusals[(role, state)] = response.json()
            if want == 409 and case.purpose != PUBLIC:
                error = response.json()["error"]
                assert error["code"] == "not_cleared", where
                assert "reasons" in error, where
    # Evidence is invisible: its 404 is the very answer a missing id gets.
    for (role, state), body in refusals.items():
        if state == "restricted" and expected(case, role, state) == 404:
            assert body == refusals[(role, "deleted")], f"{case.id} as {role}"
    assert wrong == []


def test_a_range_request_on_a_rendition_gets_206_and_a_304_for_its_etag(world: World) -> None:
    url = f"/api/v1/assets/{world.videos['cleared'].asset_id}/renditions/web_720"
    headers = world.headers[Role.viewer]
    first = world.client.get(url, headers={**headers, "Range": "bytes=0-99"})
    assert first.status_code == 206 and len(first.content) == 100
    assert first.headers["cache-control"] == gate.IMMUTABLE
    again = world.client.get(url, headers={**headers, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content


def fill(path: str, values: dict[str, str]) -> str:
    """The route's path with its parameters filled in (unknown ones: an id of nothing)."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], "0" * 26), path)


def test_bytes_only_leave_with_a_release(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every GET route (as admin, against the cleared photo and video): an answer that
    carries bytes must have had a Release made for it during the request."""
    made: list[gate.Release] = []
    original = gate.Release.__post_init__

    def counted(self: gate.Release) -> None:
        original(self)
        made.append(self)

    monkeypatch.setattr(gate.Release, "__post_init__", counted)
    app = world.client.app
    seen_bytes: set[str] = set()
    for items in (world.photos, world.videos):
        item = items["cleared"]
        values = {
            "asset_id": item.asset_id,
            "face_id": item.face_id,
            "token": item.token,
            "person_id": world.person_id,
            "job_id": world.export_job_id,
            "name": "web_720" if items is world.videos else "thumb",
            "language": "nl",
        }
        for methods, path, _, _ in endpoints(app):  # type: ignore[arg-type]
            if "GET" not in methods.split(","):
                continue
            url = fill(path, values)
            made.clear()
            response = world.client.get(url, headers=world.headers[Role.admin])
            kind = response.headers.get("content-type", "").split(";")[0]
            carries = response.status_code < 300 and response.content
            # Prometheus's figures and the API docs' start script: no asset bytes.
            if (
                carries
                and kind not in ("application/json", "text/html")
                and path
                not in (
                    "/metrics",
                    "/docs/start.js",
                )
            ):
                assert made, f"GET {path} sent {kind} without a Release"
                seen_bytes.add(path)
    # A ZIP is only its requester's (the viewer's here): the admin's sweep cannot reach one.
    unreachable = {"/api/v1/assets/{asset_id}/download", "/api/v1/downloads/{batch_id}/file"}
    assert {c.route for c in CASES} <= seen_bytes | unreachable
