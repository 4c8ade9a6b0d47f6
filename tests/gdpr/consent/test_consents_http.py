"""Consent through the API: records and versions, the verdict on assets, withdrawal that
re-judges before it returns, deadlines passing by themselves, and the exits that obey."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import select

from dam import clock
from dam.models import AssetVerdict, AuditEntry, FaceState, LicenceStatus, Role, User
from dam.runtime import Runtime
from gdpr.judgement import verdicts
from ingest.demo import jpeg_bytes, scene, xmp_packet
from tests import media
from tests.conftest import Account
from tests.corpus import CorpusUnavailable, pillow_tests_dir
from tests.feed_factories import make_asset, make_face

NAME = "Marieke Vandenbroucke"


@pytest.fixture
def officer(make_account: Callable[[Role], Account]) -> Account:
    return make_account(Role.privacy_officer)


def upload(
    client: TestClient, account: Account, data: bytes, name: str = "a.jpg", licence: str = "own"
) -> str:
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (name, data, "image/jpeg")},
        # About consent: the team's own photo, so the licence holds nothing back.
        data={"title": "Fietsers in Gent", "licence_status": licence},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def photo(rt: Runtime, owner: Account, licence: str = "own") -> str:
    """A processed photo straight through the services, for the tests whose subject is
    what consents, faces and licences do to its verdict (uploading, reading embedded
    rights and detecting faces are tested above and in the ingest tests)."""
    return make_asset(
        rt, "Fietsers in Gent", owner=owner.user, licence_status=LicenceStatus(licence)
    )


def with_face(rt: Runtime, asset_id: str, person_id: str | None, state: FaceState) -> str:
    """A face as the detector stores it (detection itself is tested on real photos in
    test_faces_api.py; here the rules on top of it are)."""
    return make_face(rt, asset_id, state=state, person_id=person_id)


def person(client: TestClient, officer: Account, **extra: object) -> str:
    response = client.post("/api/v1/people", headers=officer.headers, json={"name": NAME, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def verdict(client: TestClient, account: Account, asset_id: str, lang: str = "en") -> dict:
    response = client.get(
        f"/api/v1/assets/{asset_id}", headers={**account.headers, "Accept-Language": lang}
    )
    assert response.status_code == 200
    return dict(response.json()["verdict"])


def give(client: TestClient, officer: Account, person_id: str, **fields: object) -> dict:
    body = {"channels": ["internal", "website"], "granted_at": "2026-01-01", **fields}
    response = client.post(
        f"/api/v1/people/{person_id}/consents", headers=officer.headers, json=body
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_asset_without_people_is_cleared_except_where_alt_text_is_required(
    client: TestClient, creative: Account
) -> None:
    asset_id = upload(client, creative, media.jpeg(seed=1))
    v = verdict(client, creative, asset_id)
    assert set(v) == {"internal", "intranet", "website", "social", "print", "press"}
    assert v["internal"]["status"] == "cleared"
    assert v["internal"]["reasons"][0]["code"] == "no_people"
    assert v["website"]["status"] == "blocked"
    assert v["website"]["reasons"][0]["code"] == "alt_text_missing"
    client.patch(
        f"/api/v1/assets/{asset_id}", headers=creative.headers, json={"alt_text": "Twee fietsers"}
    )
    assert verdict(client, creative, asset_id)["website"]["status"] == "cleared"


def test_an_unknown_licence_holds_external_channels_back_until_someone_records_it(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = photo(rt, creative, licence="unknown")
    client.patch(
        f"/api/v1/assets/{asset_id}", headers=creative.headers, json={"alt_text": "Twee fietsers"}
    )
    v = verdict(client, creative, asset_id, lang="nl")
    for channel in ("website", "social", "print", "press"):
        assert v[channel]["status"] == "review", channel
        assert v[channel]["reasons"][0]["code"] == "licence_unknown"
        assert v[channel]["reasons"][0]["message"].startswith("Licentie onbekend")
    assert v["internal"]["status"] == v["intranet"]["status"] == "cleared"
    # Recording the licence is an asset change: the change feed judges it again.
    patched = client.patch(
        f"/api/v1/assets/{asset_id}", headers=creative.headers, json={"licence_status": "licensed"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["licence_status"] == "licensed"
    assert verdict(client, creative, asset_id)["website"]["status"] == "cleared"


def test_embedded_rights_fill_the_licence_but_do_not_clear_it(
    client: TestClient, creative: Account
) -> None:
    # The White House photo: its copyright notice forbids reuse. The notice is
    # read into the licence record; the status stays unknown, so it waits for review.
    notice = "Official White House photo; not for reuse by commercial entities."
    data = jpeg_bytes(
        scene(640, 480, seed=14),
        iptc={(2, 116): notice, (2, 110): "The White House", (2, 80): "Pete Souza"},
        xmp=xmp_packet(
            usage_terms="Editorial use only", web_statement="https://example.test/rights"
        ),
    )
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("wh.jpg", data, "image/jpeg")},
        data={"title": "Briefing"},
    )
    assert response.status_code == 201, response.text
    asset_id = response.json()["id"]
    client.patch(f"/api/v1/assets/{asset_id}", headers=creative.headers, json={"alt_text": "Zaal"})
    asset = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
    assert asset["licence_status"] == "unknown"
    assert asset["licence"] == {
        "copyright": notice,
        "credit": "The White House",
        "creator": "Pete Souza",
        "terms": "Editorial use only",
        "url": "https://example.test/rights",
    }
    assert asset["verdict"]["website"]["status"] == "review"
    assert asset["verdict"]["press"]["reasons"][0]["code"] == "licence_unknown"


def test_an_upload_starts_from_its_uploaders_default_licence(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    with rt.unit_of_work() as session:
        user = session.get(User, creative.user.id)
        assert user is not None
        user.default_licence_status = "own"
        user.default_credit = "Foto: Team Communicatie"
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("b.jpg", media.jpeg(seed=12), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    asset = client.get(f"/api/v1/assets/{response.json()['id']}", headers=creative.headers).json()
    assert asset["licence_status"] == "own"
    assert asset["licence"]["credit"] == "Foto: Team Communicatie"
    # What the batch says wins over the default.
    refused = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("c.jpg", media.jpeg(seed=13), "image/jpeg")},
        data={"licence_status": "gestolen"},
    )
    assert refused.status_code == 422, refused.text
    batch = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("c.jpg", media.jpeg(seed=13), "image/jpeg")},
        data={"licence_status": "licensed", "credit": "Belga", "licence_source": "Belga Image"},
    )
    assert batch.status_code == 201, batch.text
    got = client.get(f"/api/v1/assets/{batch.json()['id']}", headers=creative.headers).json()
    assert got["licence_status"] == "licensed"
    assert got["licence"] == {"credit": "Belga", "source": "Belga Image"}


def test_consent_clears_and_withdrawal_blocks_before_the_call_returns(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    asset_id = photo(rt, creative)
    pid = person(client, officer)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    blocked = verdict(client, officer, asset_id)["internal"]
    assert blocked["status"] == "blocked"
    assert blocked["reasons"][0]["code"] == "consent_missing"
    assert NAME in blocked["reasons"][0]["message"]
    consent = give(client, officer, pid, valid_until="2099-12-31", form_version="2026-A")
    assert consent["state"] == "active" and consent["assets_rejudged"] == 1
    cleared = verdict(client, officer, asset_id)
    assert cleared["internal"]["status"] == "cleared"
    assert cleared["print"]["status"] == "blocked"  # not a channel the consent covers
    assert cleared["print"]["reasons"][0]["code"] == "consent_channel"

    response = client.post(
        f"/api/v1/consents/{consent['id']}/withdraw",
        headers=officer.headers,
        json={"reason": "Per e-mail"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "withdrawn"
    after = verdict(client, officer, asset_id, lang="nl")["internal"]
    assert after["status"] == "blocked"
    assert after["reasons"][0]["code"] == "consent_withdrawn"
    assert "ingetrokken" in after["reasons"][0]["message"]
    # Twice is refused; the history stays.
    again = client.post(
        f"/api/v1/consents/{consent['id']}/withdraw", headers=officer.headers, json={}
    )
    assert again.status_code == 409
    with rt.session() as session:
        actions = [e.action for e in session.exec(select(AuditEntry))]
        assert "consent.recorded" in actions and "consent.withdrawn" in actions
        assert not any(NAME in str(e.details) for e in session.exec(select(AuditEntry)))


def test_names_in_reasons_only_for_roles_that_read_people(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    officer: Account,
    make_account: Callable[[Role], Account],
) -> None:
    asset_id = photo(rt, creative)
    pid = person(client, officer)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    viewer = make_account(Role.viewer)
    message = verdict(client, viewer, asset_id)["internal"]["reasons"][0]["message"]
    assert NAME not in message and "someone" in message.lower()


def test_a_change_is_a_new_version_and_history_is_kept(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    asset_id = photo(rt, creative)
    pid = person(client, officer)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    first = give(client, officer, pid, channels=["internal"])
    assert verdict(client, officer, asset_id)["intranet"]["status"] == "blocked"
    response = client.put(
        f"/api/v1/consents/{first['id']}",
        headers=officer.headers,
        json={"channels": ["internal", "intranet"], "granted_at": "2026-01-01"},
    )
    assert response.status_code == 201, response.text
    second = response.json()
    assert second["version"] == 2 and second["supersedes_id"] == first["id"]
    assert verdict(client, officer, asset_id)["intranet"]["status"] == "cleared"
    history = client.get(f"/api/v1/people/{pid}/consents", headers=officer.headers).json()
    assert [c["state"] for c in history] == ["active", "superseded"]
    stale = client.put(
        f"/api/v1/consents/{first['id']}",
        headers=officer.headers,
        json={"channels": ["internal"], "granted_at": "2026-01-01"},
    )
    assert stale.status_code == 409


def test_a_minor_needs_a_guardian_and_unknown_channels_are_refused(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    asset_id = photo(rt, creative)
    pid = person(client, officer, is_minor=True)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    give(client, officer, pid)
    v = verdict(client, officer, asset_id)["internal"]
    assert v["status"] == "blocked" and v["reasons"][0]["code"] == "guardian_missing"
    give(client, officer, pid, guardian_name="Ouder Van Kind")
    assert verdict(client, officer, asset_id)["internal"]["status"] == "cleared"
    bad = client.post(
        f"/api/v1/people/{pid}/consents",
        headers=officer.headers,
        json={"channels": ["billboard"], "granted_at": "2026-01-01"},
    )
    assert bad.status_code == 422 and "billboard" in bad.json()["error"]["message"]


def test_unidentified_faces_and_reported_missing_people_need_review(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = photo(rt, creative)
    face_id = with_face(rt, asset_id, None, FaceState.unknown)
    v = verdict(client, creative, asset_id)["internal"]
    assert v["status"] == "review" and v["reasons"][0]["code"] == "faces_unidentified"
    dismissed = client.post(
        f"/api/v1/faces/{face_id}/dismiss", headers=creative.headers, json={"reason": "poster"}
    )
    assert dismissed.status_code == 200, dismissed.text
    assert verdict(client, creative, asset_id)["internal"]["status"] == "cleared"
    client.patch(
        f"/api/v1/assets/{asset_id}", headers=creative.headers, json={"undetected_people": True}
    )
    v = verdict(client, creative, asset_id)["internal"]
    assert v["status"] == "review" and v["reasons"][0]["code"] == "people_not_detected"


def test_deadlines_pass_by_themselves(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    officer: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asset_id = photo(rt, creative)
    pid = person(client, officer)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    today = clock.today(rt.settings.default_timezone)  # the consent ends at local midnight
    give(client, officer, pid, granted_at=str(today - timedelta(days=3)), valid_until=str(today))
    assert verdict(client, officer, asset_id)["internal"]["status"] == "cleared"
    with rt.session() as session:
        row = verdicts.stored_set(session, asset_id)
        assert row is not None and row.next_change_at is not None
        deadline = row.next_change_at
    # One minute past the midnight that ends the consent, the periodic task has run.
    moved = deadline + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: moved.astimezone(UTC))
    rt.run_periodic()
    with rt.session() as session:
        row = verdicts.stored_set(session, asset_id)
        assert row is not None and row.status == "blocked" and "internal" not in row.cleared_for
        assert row.channels["internal"]["reasons"][0]["code"] == "consent_expired"
    # Even before the task runs, an exit never trusts a cache past its deadline.
    monkeypatch.undo()


def test_assets_sharing_facts_share_a_verdict_set_and_follow_their_people(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    """Two photos of the same person (same facts) share one verdict set; a consent
    change re-judges the set; a photo without a verdict yet (after an upgrade) is
    judged in full by the same change."""
    pid = person(client, officer)
    first, second, third = (photo(rt, creative) for _ in range(3))
    for asset_id in (first, second, third):
        with_face(rt, asset_id, pid, FaceState.confirmed)
    with rt.session() as session:
        links = {a: session.get(AssetVerdict, a) for a in (first, second, third)}
        assert links[first] and links[second] and links[third]
        assert links[first].verdict_id == links[second].verdict_id == links[third].verdict_id
        # As after migration 0009: the third has no verdict yet.
        session.delete(links[third])
        session.commit()
    consent = give(client, officer, pid)
    assert consent["assets_rejudged"] == 3
    for asset_id in (first, second, third):
        assert verdict(client, officer, asset_id)["internal"]["status"] == "cleared"
    with rt.session() as session:
        assert session.get(AssetVerdict, third) is not None
        assert verdicts.stored_set(session, third).status == "blocked"  # type: ignore[union-attr]
        # Blocked overall: print and press are not covered, website lacks alt text.
        assert verdicts.stored_set(session, third).cleared_for == ",internal,"  # type: ignore[union-attr]


def test_the_deadline_task_never_overwrites_a_fresher_verdict(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    officer: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A withdrawal committed while the periodic task re-judges the same asset wins.

    SQLite runs one writing transaction at a time, reads included, so the race exists
    on PostgreSQL only: there the task's batch reads one snapshot, and writing a row
    someone changed since fails and the batch is read again."""
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises whole transactions: no such race")
    asset_id = photo(rt, creative)
    pid = person(client, officer)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    today = clock.today(rt.settings.default_timezone)
    in_force = give(client, officer, pid, granted_at=str(today - timedelta(days=3)))
    # A second consent that starts tomorrow: the asset's verdict is due then.
    give(client, officer, pid, channels=["print"], granted_at=str(today + timedelta(days=1)))
    with rt.session() as session:
        row = verdicts.stored_set(session, asset_id)
        assert row is not None and row.next_change_at is not None
        moved = row.next_change_at + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: moved.astimezone(UTC))

    interleaved: list[int] = []

    def withdraw_meanwhile(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        # The task has read its batch and is about to write it: the officer withdraws.
        if "INSERT INTO verdict_set" in statement and not interleaved:
            interleaved.append(1)
            response = client.post(
                f"/api/v1/consents/{in_force['id']}/withdraw",
                headers=officer.headers,
                json={"reason": "Per e-mail"},
            )
            assert response.status_code == 200, response.text

    event.listen(rt.engine, "before_cursor_execute", withdraw_meanwhile)
    try:
        rt.run_periodic()
    finally:
        event.remove(rt.engine, "before_cursor_execute", withdraw_meanwhile)
    assert interleaved
    with rt.session() as session:
        row = verdicts.stored_set(session, asset_id)
        assert row is not None
        internal = row.channels["internal"]
        assert internal["status"] == "blocked", internal
        assert internal["reasons"][0]["code"] == "consent_withdrawn"


def test_download_obeys_the_verdict_and_files_follow_it_for_non_privacy_roles(
    client: TestClient,
    rt: Runtime,
    creative: Account,
    officer: Account,
    make_account: Callable[[Role], Account],
) -> None:
    asset_id = upload(client, creative, media.jpeg(seed=8, width=2000, height=1500))
    pid = person(client, officer)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    refused = client.get(
        f"/api/v1/assets/{asset_id}/download",
        params={"channel": "internal"},
        headers=creative.headers,
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "not_cleared"
    assert error["reasons"][0]["code"] == "consent_missing"
    viewer = make_account(Role.viewer)
    assert (
        client.get(
            f"/api/v1/assets/{asset_id}/renditions/large", headers=viewer.headers
        ).status_code
        == 409
    )
    # What the app itself displays stays visible; privacy officers see everything.
    assert (
        client.get(
            f"/api/v1/assets/{asset_id}/renditions/thumb", headers=viewer.headers
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/assets/{asset_id}/renditions/large", headers=officer.headers
        ).status_code
        == 200
    )
    give(client, officer, pid)
    ok = client.get(
        f"/api/v1/assets/{asset_id}/download",
        params={"channel": "internal"},
        headers=viewer.headers,
    )
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "image/jpeg"
    assert "internal" in ok.headers["content-disposition"]
    unknown = client.get(
        f"/api/v1/assets/{asset_id}/download",
        params={"channel": "billboard"},
        headers=viewer.headers,
    )
    assert unknown.status_code == 422


def test_usages_and_the_takedown_list(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    asset_id = photo(rt, creative)
    other_id = photo(rt, creative)
    pid = person(client, officer)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    with_face(rt, other_id, pid, FaceState.suggested)
    consent = give(client, officer, pid)
    for aid, url in ((asset_id, "https://www.vlaanderen.be/nieuws/1"), (other_id, None)):
        response = client.post(
            f"/api/v1/assets/{aid}/usages",
            headers=creative.headers,
            json={"channel": "website", "url": url, "note": "nieuwsbericht"},
        )
        assert response.status_code == 201, response.text
    bad = client.post(
        f"/api/v1/assets/{asset_id}/usages",
        headers=creative.headers,
        json={"channel": "website", "url": "javascript:alert(1)"},
    )
    assert bad.status_code == 422
    client.post(f"/api/v1/consents/{consent['id']}/withdraw", headers=officer.headers, json={})
    takedown = client.get(f"/api/v1/people/{pid}/takedown", headers=officer.headers).json()
    assert {(t["asset_id"], t["face_state"]) for t in takedown} == {
        (asset_id, "confirmed"),
        (other_id, "suggested"),
    }
    assert client.get(f"/api/v1/people/{pid}/takedown", headers=creative.headers).status_code == 403
    recall = client.post(f"/api/v1/usages/{takedown[0]['id']}/recall", headers=creative.headers)
    assert recall.status_code == 200 and recall.json()["recalled_at"]
    assert len(client.get(f"/api/v1/people/{pid}/takedown", headers=officer.headers).json()) == 1


def test_real_face_end_to_end(client: TestClient, creative: Account, officer: Account) -> None:
    try:
        hopper = (pillow_tests_dir() / "images" / "hopper.jpg").read_bytes()
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    asset_id = upload(client, creative, hopper, "hopper.jpg")
    asset = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
    assert len(asset["faces"]) == 1
    assert asset["verdict"]["internal"]["status"] == "review"
    pid = person(client, officer)
    face_id = asset["faces"][0]["id"]
    confirm = client.post(
        f"/api/v1/faces/{face_id}/confirm", headers=creative.headers, json={"person_id": pid}
    )
    assert confirm.status_code == 200, confirm.text
    assert verdict(client, creative, asset_id)["internal"]["status"] == "blocked"
    give(client, officer, pid)
    assert verdict(client, creative, asset_id)["internal"]["status"] == "cleared"
    withdraw = client.post(f"/api/v1/people/{pid}/withdraw", headers=officer.headers, json={})
    assert withdraw.status_code == 200, withdraw.text
    assert verdict(client, creative, asset_id)["internal"]["status"] == "blocked"


def test_stored_verdicts_hold_no_names(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    asset_id = photo(rt, creative)
    pid = person(client, officer)
    with_face(rt, asset_id, pid, FaceState.confirmed)
    with rt.session() as session:
        row = verdicts.stored_set(session, asset_id)
    assert row is not None and NAME not in str(row.channels)
    assert row.channels["internal"]["reasons"][0]["person_id"] == pid


def test_consent_evidence_is_restricted_to_privacy_officers(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    pid = person(client, officer)
    form = media.jpeg(seed=12)
    evidence_id = upload_evidence(client, officer, pid, form, "formulier.jpg")
    public_id = upload(client, creative, media.jpeg(seed=13))
    give(client, officer, pid, evidence_asset_id=evidence_id)
    for path in ("", "/verdict", "/renditions/thumb", "/original", "/similar"):
        hidden = client.get(f"/api/v1/assets/{evidence_id}{path}", headers=creative.headers)
        assert hidden.status_code == 404, path
    listed = client.get("/api/v1/assets", headers=creative.headers).json()["items"]
    assert {a["id"] for a in listed} == {public_id}
    # Not listed to the officer either, and no library page: its consent leads to it.
    listed = client.get("/api/v1/assets", headers=officer.headers).json()["items"]
    assert {a["id"] for a in listed} == {public_id}
    assert client.get(f"/api/v1/assets/{evidence_id}", headers=officer.headers).status_code == 404
    opened = client.get(f"/api/v1/assets/{evidence_id}/original", headers=officer.headers)
    assert opened.status_code == 200 and opened.content == form


def upload_evidence(
    client: TestClient, account: Account, person_id: str, data: bytes, name: str
) -> str:
    answer = client.post(
        f"/api/v1/people/{person_id}/evidence",
        headers=account.headers,
        files={"file": (name, data, "application/octet-stream")},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_person_shows_consents_to_privacy_officers_only_and_can_be_hidden(
    client: TestClient, creative: Account, officer: Account
) -> None:
    pid = person(client, officer, hidden=True)
    give(client, officer, pid)
    seen = client.get(f"/api/v1/people/{pid}", headers=officer.headers).json()
    assert seen["hidden"] is True
    assert [c["state"] for c in seen["consents"]] == ["active"]
    assert client.get(f"/api/v1/people/{pid}", headers=creative.headers).json()["consents"] == []


def test_a_licence_that_runs_out_blocks_and_search_follows(
    client: TestClient, rt: Runtime, creative: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.service import service_for

    asset_id = photo(rt, creative, licence="licensed")
    last_day = clock.now().date() + timedelta(days=1)
    client.patch(
        f"/api/v1/assets/{asset_id}",
        headers=creative.headers,
        json={"licence": {"type": "stock", "valid_until": str(last_day), "channels": ["internal"]}},
    )
    v = verdict(client, creative, asset_id)
    assert v["internal"]["status"] == "cleared"
    assert v["intranet"]["reasons"][0]["code"] == "licence_channel"
    assert service_for(rt).sync.flush()
    facets = client.get("/api/v1/search", headers=creative.headers).json()["facets"]
    assert facets["licence"] == {"licensed": 1}  # the facet counts licence statuses
    assert facets["cleared_for"].get("internal") == 1

    moved = datetime.combine(last_day + timedelta(days=1), time(0, 1), tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: moved)
    rt.run_periodic()
    rt.changes.drain()  # as the sweep does after the periodic tasks
    assert verdict(client, creative, asset_id)["internal"]["reasons"][0]["code"] == (
        "licence_expired"
    )
    assert service_for(rt).sync.flush()
    facets = client.get("/api/v1/search", headers=creative.headers).json()["facets"]
    assert facets["licence"] == {"expired": 1}
    assert not facets["cleared_for"]
