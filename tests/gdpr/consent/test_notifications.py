"""Notices for privacy officers: a consent about to end, a withdrawal with publications to
recall; in the app and by e-mail through a real SMTP server on this machine."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import select

from dam import clock, migrate
from dam.models import Face, FaceState, Notification, Role
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from gdpr.consent import notifications
from gdpr.judgement.verdict_text import format_day
from tests import media
from tests.conftest import Account
from web.app import create_app

pytestmark = pytest.mark.one_database

NAME = "Wannes Verhelst"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with socket.socket() as probe:  # a free port (the controller tests its own port)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def mailing_rt(
    settings_factory: Callable[..., Settings], inbox: tuple[Inbox, int]
) -> Iterator[Runtime]:
    runtime = build_runtime(
        settings_factory(smtp_url=f"smtp://127.0.0.1:{inbox[1]}", mail_from="bb@vlaanderen.test")
    )
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


def account(rt: Runtime, role: Role) -> Account:
    from dam import auth

    with rt.unit_of_work() as session:
        user = auth.create_user(
            session,
            email=f"{role.value}@vlaanderen.test",
            password="correct horse battery",
            role=role,
        )
        token = auth.create_token(session, user=user, name="t")
    return Account(user, token)


def test_ending_and_withdrawn_consents_notify_in_app_and_by_mail(
    mailing_rt: Runtime, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = mailing_rt
    officer = account(rt, Role.privacy_officer)
    creative = account(rt, Role.creative)
    with TestClient(create_app(rt)) as client:
        asset_id = client.post(
            "/api/v1/assets",
            headers=creative.headers,
            files={"file": ("a.jpg", media.jpeg(seed=31), "image/jpeg")},
        ).json()["id"]
        pid = client.post("/api/v1/people", headers=officer.headers, json={"name": NAME}).json()[
            "id"
        ]
        with rt.unit_of_work() as session:
            session.add(
                Face(
                    asset_id=asset_id,
                    box_x=0.1,
                    box_y=0.1,
                    box_w=0.2,
                    box_h=0.2,
                    score=0.9,
                    detector="test",
                    state=FaceState.confirmed,
                    person_id=pid,
                )
            )
        today = clock.now().date()
        consent = client.post(
            f"/api/v1/people/{pid}/consents",
            headers=officer.headers,
            json={
                "channels": ["website"],
                "granted_at": str(today - timedelta(days=5)),
                "valid_until": str(today + timedelta(days=10)),
            },
        ).json()
        client.post(
            f"/api/v1/assets/{asset_id}/usages",
            headers=creative.headers,
            json={"channel": "website", "url": "https://www.vlaanderen.be/a"},
        )

        rt.run_periodic()
        rt.run_periodic()  # once per fact, however often it runs
        with rt.session() as session:
            kinds = [n.kind for n in session.exec(select(Notification))]
        assert kinds == [notifications.CONSENT_ENDING]
        messages = inbox[0].messages
        assert len(messages) == 1
        body = messages[0].get_payload()
        last_day = format_day(str(today + timedelta(days=10)) + "T12:00:00+00:00", "nl")
        assert f"geldig tot en met {last_day}" in body and f"/people/{pid}" in body
        assert NAME not in body and NAME not in str(messages[0])
        assert "privacy_officer@vlaanderen.test" in messages[0]["To"]
        assert "creative@" not in messages[0]["To"]

        client.post(f"/api/v1/consents/{consent['id']}/withdraw", headers=officer.headers, json={})
        rt.run_periodic()
        with rt.session() as session:
            withdrawn = session.exec(
                select(Notification).where(Notification.kind == notifications.CONSENT_WITHDRAWN)
            ).one()
        assert withdrawn.params == {"person_id": pid, "usages": 1}
        assert "1 publication to recall" in notifications.text(withdrawn, "en", "Europe/Brussels")
        assert len(messages) == 2 and f"/people/{pid}/takedown" in messages[1].get_payload()


def test_an_unreachable_mail_server_keeps_the_notice_for_later(
    settings_factory: Callable[..., Settings],
) -> None:
    rt = build_runtime(settings_factory(smtp_url="smtp://127.0.0.1:9"))
    migrate.upgrade(rt.engine)
    try:
        account(rt, Role.privacy_officer)
        with rt.unit_of_work() as session:
            notifications.add(
                session,
                kind=notifications.ERASURE_PROPOSED,
                subject_type="person",
                subject_id="p1",
                dedupe_key="x",
            )
        with rt.session() as session:
            assert notifications.send_pending(session, rt.settings) == 0
            assert session.exec(select(Notification)).one().emailed_at is None
    finally:
        rt.close()


def test_smtp_urls() -> None:
    target = notifications.smtp_target("smtp+starttls://bb%40x.be:p%40ss@mail.x.be")
    assert (target.host, target.port, target.mode, target.user, target.password) == (
        "mail.x.be",
        587,
        "starttls",
        "bb@x.be",
        "p@ss",
    )
    assert notifications.smtp_target("smtps://mail.x.be").port == 465
    with pytest.raises(ValueError):
        notifications.smtp_target("http://mail.x.be")
