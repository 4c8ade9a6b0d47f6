"""Notices for creatives, over HTTP on SQLite and PostgreSQL: when a consent is withdrawn
or ends, whoever uploaded a photo the person is confirmed on, and whoever recorded a
publication of it, reads on /notices that it is blocked and what to take down; the
privacy officers' own notices are not mixed with theirs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from dam import clock
from dam.models import FaceState, Notification, Role
from dam.runtime import Runtime
from gdpr.consent import creative_notices, notifications
from gdpr.judgement import verdicts
from gdpr.publishing import usages
from tests.conftest import Account
from tests.test_ui_privacy import add_face, consent, make_desk, person, withdraw
from tests.ui_client import csrf_of, log_in, upload

pytestmark = pytest.mark.one_database


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _publish(rt: Runtime, account: Account, asset_id: str) -> None:
    with rt.session() as session:
        data = usages.UsageInput.model_validate(
            {"channel": "website", "url": "https://example.test/nieuws/9"}
        )
        usages.record_usage(
            session, asset_id=asset_id, data=data, actor=account.user, settings=rt.settings
        )


def test_a_withdrawal_tells_the_uploader_and_the_publisher_what_to_take_down(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    publisher = make_account(Role.creative)
    bystander = make_account(Role.creative)
    person_id = person(desk, "Rune Blokkeer")
    blocked = upload(client, desk.creative, seed=31, title="Opening zwembad")
    untouched = upload(client, desk.creative, seed=32, title="Leeg zwembad")
    add_face(desk, blocked, state=FaceState.confirmed, person_id=person_id)
    consent_id = consent(desk, person_id, days=None, channels=["internal", "website"])
    _publish(rt, publisher, blocked)
    with rt.session() as session:
        officers_before = notifications.unread_count(session)

    withdraw(desk, consent_id)

    for account in (desk.creative, publisher):
        with TestClient(client.app) as own:
            log_in(own, account)
            page = own.get("/notices")
            assert page.status_code == 200
            words = _words(page.text)
            assert "“Opening zwembad” is geblokkeerd: iemand op de foto of video trok" in words
            assert "Haal de geregistreerde publicatie offline." in words
            assert f'href="/assets/{blocked}#publishing"' in page.text
            assert untouched not in page.text
            assert "Meldingen 1" in _words(own.get("/").text)  # the menu's count
    with TestClient(client.app) as other:
        log_in(other, bystander)
        assert "Geen meldingen." in _words(other.get("/notices").text)
    # The officers see their one notice about the withdrawal, not the creatives' ones.
    with rt.session() as session:
        assert notifications.unread_count(session) == officers_before + 1
        mine = creative_notices.unread_for(session, desk.creative.user.id)
    assert len(mine) == 1 and mine[0].params["usages"] == 1

    # Read: marked for its reader only; nobody else can mark it.
    with TestClient(client.app) as own:
        token = log_in(own, publisher)
        foreign = own.post(f"/notices/{mine[0].id}/read", data={"csrf_token": token})
        assert foreign.status_code == 200
    with rt.session() as session:
        notice = session.get(Notification, mine[0].id)
        assert notice is not None and notice.read_at is None
    with TestClient(client.app) as own:
        log_in(own, desk.creative)
        page = own.get("/notices")
        own.post(f"/notices/{mine[0].id}/read", data={"csrf_token": csrf_of(page)})
        assert "Meldingen 1" not in _words(own.get("/").text)
    # Viewers have nothing to take down: no page for them.
    with TestClient(client.app) as viewer:
        log_in(viewer, make_account(Role.viewer))
        assert viewer.get("/notices", follow_redirects=False).status_code == 403


def test_an_ended_consent_tells_only_where_it_blocks(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desk = make_desk(client, rt, make_account)
    ending = person(desk, "Oona Verloop")
    covered = person(desk, "Pim Gedekt")
    alone = upload(client, desk.creative, seed=41, title="Alleen Oona")
    still_covered = upload(client, desk.creative, seed=42, title="Pim alleen")
    add_face(desk, alone, state=FaceState.confirmed, person_id=ending)
    add_face(desk, still_covered, state=FaceState.confirmed, person_id=covered)
    consent(desk, ending, days=1, channels=["internal"])
    consent(desk, covered, days=None, channels=["internal"])
    with rt.unit_of_work() as session:
        assert creative_notices.notice_expired(session, rt.settings) == 0  # not ended yet

    later = clock.now() + timedelta(days=3)
    monkeypatch.setattr(clock, "now", lambda: later)
    with rt.unit_of_work() as session:
        verdicts.refresh(session, [alone, still_covered], settings=rt.settings)
    with rt.unit_of_work() as session:
        assert creative_notices.notice_expired(session, rt.settings) == 1
    with rt.unit_of_work() as session:
        assert creative_notices.notice_expired(session, rt.settings) == 0  # once
        found = session.exec(
            select(Notification).where(col(Notification.recipient_id) == desk.creative.user.id)
        ).all()
    assert [(n.subject_id, n.params["cause"]) for n in found] == [(alone, "expired")]
    with TestClient(client.app) as own:
        log_in(own, desk.creative)
        words = _words(own.get("/notices").text)
    assert "“Alleen Oona” is geblokkeerd: de toestemming van iemand" in words
    assert "Er staan geen publicaties meer online die je moet offline halen." in words
