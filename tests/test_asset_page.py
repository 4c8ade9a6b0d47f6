"""The asset page's faces and video over HTTP: who sees names, confirming and dismissing
through plain forms (CSRF, roles, audit by id), the player and captions for videos; and the
pure face marks (boxes in percentages, time spans)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam.models import AuditEntry, Face, FaceState, Person, Role
from dam.runtime import Runtime
from gdpr.judgement import verdicts
from gdpr.recognition import cluster_naming, face_decisions, people
from tests import video_clips as clips
from tests.conftest import Account
from tests.feed_factories import make_asset
from tests.ui_client import log_in, upload
from tests.video_clips import Clip
from web.ui import face_forms
from web.ui.face_marks import clock, face_marks, time_span

pytestmark = pytest.mark.one_database

NAME = "Jan Peeters"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, None),
        (12.0, None, "0:12"),
        (12.4, 31.9, "0:12–0:31"),
        (12.0, 12.6, "0:12"),
        (31.0, 12.0, "0:31"),  # an end before the start is no span
        (3599.0, 3725.0, "59:59–1:02:05"),
        (-1.0, 0.5, "0:00"),
    ],
)
def test_time_span(start: float | None, end: float | None, expected: str | None) -> None:
    assert time_span(start, end) == expected


def test_clock() -> None:
    assert [clock(s) for s in (0, 9.99, 83.4, 3600, 36000.5)] == [
        "0:00",
        "0:09",
        "1:23",
        "1:00:00",
        "10:00:00",
    ]


def fake_face(**values: object) -> Face:
    base: dict[str, Any] = dict(
        id="f", asset_id="a", box_x=0.1, box_y=0.2, box_w=0.3, box_h=0.4, time_s=None,
        score=0.9, detector="t", state=FaceState.unknown, person_id=None,
        dismiss_reason=None, crop_path=None,
    )  # fmt: skip
    base.update(values)
    return Face(**base)


def test_face_marks_name_people_only_for_those_who_may_see_them() -> None:
    faces = [
        fake_face(id="a", state=FaceState.confirmed, person_id="p1", crop_path="c.jpg"),
        fake_face(id="b", state=FaceState.dismissed, dismiss_reason="Geen gezicht"),
        fake_face(id="c", state=FaceState.suggested, person_id="p2", box_x=0.9, box_w=0.3),
    ]
    names = {"p1": NAME, "p2": "An"}
    seen = face_marks(faces, names=names, video=False)
    assert [(m.number, m.name, m.state) for m in seen] == [
        (1, NAME, "confirmed"),
        (2, None, "dismissed"),
        (3, "An", "suggested"),
    ]
    assert (seen[0].left, seen[0].top, seen[0].width, seen[0].height) == (10.0, 20.0, 30.0, 40.0)
    assert seen[0].crop_url == "/api/v1/faces/a/crop" and seen[1].reason == "Geen gezicht"
    assert seen[2].width == pytest.approx(10.0)  # clamped to the picture's edge
    anonymous = face_marks(faces, names=None, video=False)
    assert [(m.number, m.name, m.person_id, m.crop_url) for m in anonymous] == [
        (1, None, None, None),
        (2, None, None, None),
    ]  # the dismissed face is no one: not shown


def test_face_marks_of_a_video_follow_the_time() -> None:
    faces = [
        fake_face(id="late", time_s=31.0),
        fake_face(id="early", time_s=12.0),
    ]
    marks = face_marks(faces, names={}, video=True)
    assert [(m.id, m.span, m.start_s) for m in marks] == [
        ("early", "0:12", 12.0),
        ("late", "0:31", 31.0),
    ]
    tracked = fake_face(time_s=12.0, time_end_s=31.5)
    assert face_marks([tracked], names={}, video=True)[0].span == "0:12–0:31"


def add_faces(rt: Runtime, asset_id: str, officer: Account) -> dict[str, str]:
    """Three faces on the asset: one confirmed as NAME, one suggested as NAME, one unknown."""
    with rt.session() as session:
        person = people.create_person(
            session, data=people.PersonCreate.model_validate({"name": NAME}), actor=officer.user
        )
        rows = {
            "confirmed": Face(asset_id=asset_id, box_x=0.1, box_y=0.1, box_w=0.2, box_h=0.3,
                              score=0.99, detector="test", state=FaceState.confirmed,
                              person_id=person.id),
            "suggested": Face(asset_id=asset_id, box_x=0.5, box_y=0.1, box_w=0.2, box_h=0.3,
                              score=0.97, detector="test", state=FaceState.suggested,
                              person_id=person.id, distance=0.4),
            "unknown": Face(asset_id=asset_id, box_x=0.3, box_y=0.6, box_w=0.2, box_h=0.3,
                            score=0.95, detector="test"),
        }  # fmt: skip
        session.add_all(rows.values())
        session.flush()
        # What the face stages' events do: judge the asset again with its faces.
        verdicts.refresh(session, [asset_id], settings=rt.settings)
        session.commit()
        return {key: face.id for key, face in rows.items()} | {"person": person.id}


def face_boxes(html: str) -> list[str]:
    return re.findall(r'<a href="#face-[^"]+" class="face-box[^"]*"[^>]*aria-label="([^"]+)"', html)


@pytest.fixture
def photo_with_faces(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> tuple[str, dict[str, str]]:
    owner = make_account(Role.creative)
    asset_id = upload(client, owner, seed=61, title="Persmoment")
    return asset_id, add_faces(rt, asset_id, make_account(Role.privacy_officer))


def test_viewers_see_boxes_but_no_names(
    client: TestClient,
    make_account: Callable[[Role], Account],
    photo_with_faces: tuple[str, dict[str, str]],
) -> None:
    asset_id, _ = photo_with_faces
    log_in(client, make_account(Role.viewer))
    html = client.get(f"/assets/{asset_id}").text
    assert face_boxes(html) == ["Persoon 1", "Persoon 2", "Persoon 3"]
    assert NAME not in html
    # No face crop (a face's picture); the download's photo crops (`/crops`) are no face's.
    assert not re.search(r"/crop(?!s)", html)
    assert "/faces/" not in html.replace('href="#face-', "")
    assert "Gezichten op deze foto" in html


def test_creatives_see_names_and_states(
    client: TestClient, creative: Account, photo_with_faces: tuple[str, dict[str, str]]
) -> None:
    asset_id, _ = photo_with_faces
    log_in(client, creative)
    html = client.get(f"/assets/{asset_id}").text
    # Reading order: top to bottom, left to right.
    assert face_boxes(html) == [
        f"Gezicht 1: {NAME} (bevestigd)",
        f"Gezicht 2: waarschijnlijk {NAME} (suggestie, niet bevestigd)",
        "Gezicht 3: onbekend",
    ]
    assert 'x="50.0%" y="10.0%" width="20.0%" height="30.0%"' in html
    assert f"Ja, dit is {NAME}" in html
    # A name field per face, which finds people as you type: the page lists nobody else.
    assert html.count("data-person-picker") == 3
    assert html.count('name="name"') == 3 and '<datalist id="face-people' not in html
    assert html.count('<input type="hidden" name="person_id" value="">') == 3
    assert "Alleen een privacyverantwoordelijke kan een nieuwe persoon toevoegen." in html
    # Dismissing offers the one list of reasons, one button each.
    reasons = re.findall(r'name="reason" value="([^"]+)"', html)
    assert reasons == [*face_decisions.DISMISS_REASONS] * 3
    assert "Niet herkenbaar<span" in html


def test_zoom_uses_the_large_version_only_where_it_may_be_loaded(
    client: TestClient,
    make_account: Callable[[Role], Account],
    photo_with_faces: tuple[str, dict[str, str]],
) -> None:
    asset_id, _ = photo_with_faces
    plain = upload(client, make_account(Role.creative), seed=63)  # no faces: cleared
    files = f"/api/v1/assets/{asset_id}/renditions"
    log_in(client, make_account(Role.viewer))
    page = client.get(f"/assets/{plain}").text
    assert f'data-large="/api/v1/assets/{plain}/renditions/large"' in page
    # Unknown faces: the photo is not cleared, so `large` may not leave (egress check).
    log_in(client, make_account(Role.creative))
    assert f'data-large="{files}/preview"' in client.get(f"/assets/{asset_id}").text
    log_in(client, make_account(Role.privacy_officer))
    assert f'data-large="{files}/large"' in client.get(f"/assets/{asset_id}").text


def test_confirm_and_dismiss_through_the_forms(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    photo_with_faces: tuple[str, dict[str, str]],
) -> None:
    asset_id, ids = photo_with_faces
    token = log_in(client, creative)
    page = f"/assets/{asset_id}?sort=title&i=0"
    base = f"/assets/{asset_id}/faces"

    done = client.post(
        f"{base}/{ids['suggested']}/confirm?sort=title&i=0",
        data={"csrf_token": token, "person_id": ids["person"], "number": "2"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{page}#face-{ids['suggested']}"
    assert "Gezicht 2 is bevestigd." in client.get(done.headers["location"]).text

    for reason in ("  ", "Niet herkenbaar", "a picture of a picture", "not a face "):
        refused = client.post(
            f"{base}/{ids['unknown']}/dismiss", data={"csrf_token": token, "reason": reason}
        )
        assert refused.status_code == 422, reason  # only the offered reasons, as stored
        assert "Kies waarom het gezicht wordt afgewezen." in refused.text
    nobody = client.post(f"{base}/{ids['unknown']}/confirm", data={"csrf_token": token})
    assert nobody.status_code == 422
    assert "Kies een persoon, of typ de naam." in nobody.text
    with rt.session() as session:
        face = session.get(Face, ids["unknown"])
        assert face is not None and face.state == FaceState.unknown

    dismissed = client.post(
        f"{base}/{ids['unknown']}/dismiss",
        data={"csrf_token": token, "reason": "not recognisable", "number": "3"},
    )
    assert "Gezicht 3 is afgewezen." in dismissed.text
    assert "Reden: niet herkenbaar" in dismissed.text

    with rt.session() as session:
        states = {f.id: f.state for f in session.exec(select(Face))}
        entries = list(session.exec(select(AuditEntry).where(AuditEntry.subject_type == "face")))
    assert states[ids["suggested"]] == FaceState.confirmed
    assert states[ids["unknown"]] == FaceState.dismissed
    with rt.session() as session:
        face = session.get(Face, ids["unknown"])
        assert face is not None and face.dismiss_reason == "not recognisable"
    assert {e.action for e in entries} == {"face.confirmed", "face.dismissed"}
    assert all(NAME not in str(e.details) for e in entries)  # ids, never names


def people_called(rt: Runtime, name: str) -> list[Person]:
    with rt.session() as session:
        return cluster_naming.people_named(session, name)


def test_a_typed_name_is_the_known_person_and_only_officers_add_one(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    make_account: Callable[[Role], Account],
    photo_with_faces: tuple[str, dict[str, str]],
) -> None:
    asset_id, ids = photo_with_faces
    url = f"/assets/{asset_id}/faces/{ids['unknown']}/confirm"
    token = log_in(client, creative)
    refused = client.post(url, data={"csrf_token": token, "name": "Els Claes"})
    assert refused.status_code == 403
    assert "Alleen een privacyverantwoordelijke kan een persoon toevoegen." in refused.text
    assert people_called(rt, "Els Claes") == []

    # A creative types a known name (other case, extra spaces): that person, no new one.
    known = client.post(url, data={"csrf_token": token, "name": "  jan   PEETERS ", "number": "3"})
    assert known.status_code == 200 and "Gezicht 3 is bevestigd." in known.text
    assert [p.id for p in people_called(rt, NAME)] == [ids["person"]]
    with rt.session() as session:
        face = session.get(Face, ids["unknown"])
        assert face is not None and face.state == FaceState.confirmed
        assert face.person_id == ids["person"]

    token = log_in(client, make_account(Role.privacy_officer))
    assert (
        "Een naam die nog niemand heeft, voegt een nieuwe persoon toe."
        in client.get(f"/assets/{asset_id}").text
    )
    too_long = client.post(url, data={"csrf_token": token, "name": "x" * 201})
    assert too_long.status_code == 422
    assert "Typ de naam van de persoon (hoogstens 200 tekens)." in too_long.text
    named = client.post(url, data={"csrf_token": token, "name": "  Els   Claes "})
    assert named.status_code == 200
    with rt.session() as session:
        face = session.get(Face, ids["unknown"])
        assert face is not None and face.state == FaceState.confirmed
        person = session.get(Person, face.person_id)
        assert person is not None and person.name == "Els Claes"
    again = client.post(url, data={"csrf_token": token, "name": "els claes"})
    assert again.status_code == 200
    assert len(people_called(rt, "Els Claes")) == 1  # the officer's typing makes no double


def test_an_ambiguous_name_is_refused_on_the_page(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    photo_with_faces: tuple[str, dict[str, str]],
) -> None:
    asset_id, ids = photo_with_faces
    officer = make_account(Role.privacy_officer)
    with rt.session() as session:
        data = people.PersonCreate.model_validate({"name": "jan  peeters"})
        twin = people.create_person(session, data=data, actor=officer.user).id
    url = f"/assets/{asset_id}/faces/{ids['unknown']}/confirm"
    token = log_in(client, officer)
    refused = client.post(url, data={"csrf_token": token, "name": NAME})
    assert refused.status_code == 422
    assert "Meerdere personen hebben deze naam. Kies er een uit de lijst." in refused.text
    assert len(people_called(rt, NAME)) == 2  # no third one
    with rt.session() as session:
        face = session.get(Face, ids["unknown"])
        assert face is not None and face.state == FaceState.unknown
    # Picked from the list by id, either of them can be meant.
    picked = client.post(url, data={"csrf_token": token, "person_id": twin})
    assert picked.status_code == 200
    with rt.session() as session:
        face = session.get(Face, ids["unknown"])
        assert face is not None and face.person_id == twin


def test_without_scripts_a_typed_name_is_searched_on_a_page_of_matches(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    make_account: Callable[[Role], Account],
    photo_with_faces: tuple[str, dict[str, str]],
) -> None:
    asset_id, ids = photo_with_faces
    officer = make_account(Role.privacy_officer)
    with rt.session() as session:
        for name, hidden in (("Jana Peeters", False), ("Jan Peeterman", True)):
            data = people.PersonCreate.model_validate({"name": name, "hidden": hidden})
            people.create_person(session, data=data, actor=officer.user)
    token = log_in(client, creative)
    face = ids["unknown"]
    # "Search people by name" in the face's form: the page of matches for what was typed,
    # keeping the asset's result set; nothing is confirmed.
    searched = client.post(
        f"/assets/{asset_id}/faces/{face}/confirm?sort=title&i=0",
        data={"csrf_token": token, "name": " peet  ", "search": "1", "number": "3"},
        follow_redirects=False,
    )
    assert searched.status_code == 303
    page_url = searched.headers["location"]
    assert page_url == f"/assets/{asset_id}/faces/{face}/people?name=peet&sort=title&i=0"
    page = client.get(page_url)
    assert page.status_code == 200
    assert "<h1>Wie is gezicht 3?</h1>" in page.text
    # Hidden people are not found by name below privacy officer.
    assert re.findall(r"Dit is ([^<]+)</button>", page.text) == ["Jan Peeters", "Jana Peeters"]
    assert "1 foto" in page.text  # Jan Peeters is confirmed on this photo
    assert f'action="/assets/{asset_id}/faces/{face}/confirm?sort=title&amp;i=0"' in page.text
    assert "als nieuwe persoon toevoegen" not in page.text  # creatives add nobody
    nobody = client.get(f"/assets/{asset_id}/faces/{face}/people?name=xyz").text
    assert "Niemand gevonden met deze naam." in nobody
    assert "Alleen een privacyverantwoordelijke kan een nieuwe persoon toevoegen." in nobody

    with rt.session() as session:
        jana = cluster_naming.people_named(session, "Jana Peeters")[0].id
    done = client.post(
        f"/assets/{asset_id}/faces/{face}/confirm?sort=title&i=0",
        data={"csrf_token": token, "person_id": jana, "number": "3"},
        follow_redirects=False,
    )
    assert done.headers["location"] == f"/assets/{asset_id}?sort=title&i=0#face-{face}"
    with rt.session() as session:
        confirmed = session.get(Face, face)
        assert confirmed is not None and confirmed.person_id == jana

    log_in(client, officer)
    officer_page = client.get(f"/assets/{asset_id}/faces/{face}/people?name=peet").text
    assert re.findall(r"Dit is ([^<]+)</button>", officer_page) == [
        "Jan Peeterman",
        "Jan Peeters",
        "Jana Peeters",
    ]
    new_name = client.get(f"/assets/{asset_id}/faces/{face}/people?name=Els+Claes").text
    assert "Els Claes als nieuwe persoon toevoegen" in new_name
    log_in(client, make_account(Role.viewer))
    assert client.get(f"/assets/{asset_id}/faces/{face}/people").status_code == 403
    other = make_asset(rt, owner=creative.user)
    assert client.get(f"/assets/{other}/faces/{face}/people").status_code in (403, 404)


def test_a_picked_person_wins_over_the_name_shown(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    photo_with_faces: tuple[str, dict[str, str]],
) -> None:
    # The picker sends the name it shows and the person chosen, who may share that name.
    asset_id, ids = photo_with_faces
    creative = make_account(Role.creative)
    with rt.session() as session:
        data = people.PersonCreate.model_validate({"name": NAME})
        twin = people.create_person(session, data=data, actor=make_account(Role.admin).user).id
    token = log_in(client, creative)
    url = f"/assets/{asset_id}/faces/{ids['unknown']}/confirm"
    picked = client.post(url, data={"csrf_token": token, "person_id": twin, "name": NAME})
    assert picked.status_code == 200
    with rt.session() as session:
        face = session.get(Face, ids["unknown"])
        assert face is not None and face.person_id == twin


def test_the_dismiss_reasons_are_one_list_with_labels() -> None:
    assert tuple(face_forms.DISMISS_LABELS) == face_decisions.DISMISS_REASONS


def test_face_forms_check_role_csrf_and_asset(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    make_account: Callable[[Role], Account],
    photo_with_faces: tuple[str, dict[str, str]],
) -> None:
    asset_id, ids = photo_with_faces
    url = f"/assets/{asset_id}/faces/{ids['unknown']}/dismiss"
    token = log_in(client, make_account(Role.viewer))
    assert client.post(url, data={"csrf_token": token, "reason": "x"}).status_code == 403

    token = log_in(client, creative)
    assert client.post(url, data={"reason": "x"}).status_code == 403  # no CSRF token
    other = make_asset(rt, owner=creative.user)
    wrong_asset = f"/assets/{other}/faces/{ids['unknown']}/dismiss"
    assert client.post(wrong_asset, data={"csrf_token": token, "reason": "x"}).status_code == 404
    with rt.session() as session:
        face = session.get(Face, ids["unknown"])
        assert face is not None and face.state == FaceState.unknown


@pytest.fixture
def video_id(client: TestClient, creative: Account, tmp_path: Path) -> str:
    clip = clips.render(Clip("page", size="320x240", seconds=2.0), tmp_path)
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")},
    )
    asset_id = str(response.json()["id"])
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nGoedemorgen.\n"
    added = client.put(
        f"/api/v1/assets/{asset_id}/captions/nl", content=vtt, headers=creative.headers
    )
    assert added.status_code == 201
    return asset_id


def test_a_video_page_has_the_player_captions_and_faces_by_time(
    client: TestClient, rt: Runtime, creative: Account, video_id: str
) -> None:
    with rt.session() as session:
        session.add(
            Face(asset_id=video_id, box_x=0.4, box_y=0.2, box_w=0.2, box_h=0.3, score=0.9,
                 detector="test", time_s=1.2)
        )  # fmt: skip
        session.commit()
    log_in(client, creative)
    html = client.get(f"/assets/{video_id}").text
    assert re.search(r'<video controls preload="metadata" playsinline poster="[^"]+/poster"', html)
    assert f'<source src="/api/v1/assets/{video_id}/renditions/web_720" type="video/mp4"' in html
    track = f'src="/api/v1/assets/{video_id}/captions/nl"'
    assert f'<track kind="subtitles" srclang="nl" label="Nederlands" {track}>' in html
    assert "Ondertitels" in html and "data-add-caption" in html
    assert 'id="preview"' not in html  # the player replaces the still
    assert "Gezichten in deze video" in html and "Te zien op 0:01" in html
    assert 'data-seek="1.2"' in html
    assert "<svg" not in html  # no boxes drawn over a video
    assert "webversie 720p" in html and "ondertitels toegevoegd" in html


def test_share_links_are_offered_to_those_who_may_share(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    owner = make_account(Role.creative)
    asset_id = upload(client, owner, seed=62, title="Deelbaar")
    log_in(client, owner)
    html = client.get(f"/assets/{asset_id}").text
    assert 'id="shares-heading"' in html and f"/assets/{asset_id}/shares" in html
    log_in(client, make_account(Role.viewer))
    assert 'id="shares-heading"' not in client.get(f"/assets/{asset_id}").text
