"""The privacy dashboard over HTTP on SQLite and PostgreSQL: who may open it, what each
panel lists (seeded through the gdpr services), the review flow's confirm and dismiss
moving on to the next asset, the audit log's filters, paging and chain check, and
notices marked as read (with the count in the menu)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from dam import audit, clock
from dam.models import AuditEntry, Face, FaceState, Notification, Role, User
from dam.runtime import Runtime
from gdpr.consent import consents, notifications
from gdpr.judgement import verdicts
from gdpr.publishing import usages
from gdpr.recognition import cluster_naming, people
from tests.conftest import Account
from tests.feed_factories import make_asset
from tests.ui_client import csrf_of, log_in, upload

pytestmark = pytest.mark.one_database


@dataclass
class Desk:
    client: TestClient
    rt: Runtime
    officer: Account
    creative: Account
    csrf: str

    def user(self) -> User:
        return self.officer.user

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.text[:500]
        return response.text

    def post(self, path: str, **data: str) -> str:
        """Post a form; return where the redirect leads."""
        response = self.client.post(
            path, data={"csrf_token": self.csrf, **data}, follow_redirects=False
        )
        assert response.status_code == 303, response.text[:500]
        return str(response.headers["location"])


def make_desk(client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]) -> Desk:
    officer, creative = make_account(Role.privacy_officer), make_account(Role.creative)
    return Desk(client, rt, officer, creative, log_in(client, officer))


def person(desk: Desk, name: str) -> str:
    with desk.rt.session() as session:
        data = people.PersonCreate.model_validate({"name": name})
        return people.create_person(session, data=data, actor=desk.user()).id


def add_face(
    desk: Desk,
    asset_id: str,
    *,
    state: FaceState = FaceState.unknown,
    person_id: str | None = None,
    x: float = 0.2,
) -> str:
    """A detected face on an asset, as the faces stage stores it (then re-judged)."""
    with desk.rt.unit_of_work() as session:
        face = Face(
            asset_id=asset_id,
            box_x=x,
            box_y=0.2,
            box_w=0.2,
            box_h=0.3,
            score=0.99,
            detector="test",
            state=state,
            person_id=person_id,
        )
        session.add(face)
        session.flush()
        face_id = face.id
    with desk.rt.unit_of_work() as session:
        verdicts.refresh(session, [asset_id], settings=desk.rt.settings)
    return face_id


def consent(desk: Desk, person_id: str, *, days: int | None, channels: list[str]) -> str:
    today = clock.now().date()
    data = consents.ConsentInput.model_validate(
        {
            "channels": channels,
            "granted_at": today - timedelta(days=30),
            "valid_until": today + timedelta(days=days) if days is not None else None,
        }
    )
    with desk.rt.session() as session:
        change = consents.record_consent(
            session, person_id=person_id, data=data, actor=desk.user(), settings=desk.rt.settings
        )
        return change.consent.id


def withdraw(desk: Desk, consent_id: str) -> None:
    with desk.rt.session() as session:
        consents.withdraw_consent(
            session,
            consent_id=consent_id,
            data=consents.WithdrawInput.model_validate({"reason": "test"}),
            actor=desk.user(),
            settings=desk.rt.settings,
        )


def publish(desk: Desk, asset_id: str, url: str) -> str:
    with desk.rt.session() as session:
        data = usages.UsageInput.model_validate({"channel": "website", "url": url})
        return usages.record_usage(
            session, asset_id=asset_id, data=data, actor=desk.user(), settings=desk.rt.settings
        ).id


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    assert found, f"no section #{section_id}"
    return found[0]


def menu(html: str) -> str:
    found = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
    assert found
    return found[0]


def flash_of(desk: Desk, path: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', desk.page(path), re.S)
    assert found, "no message on the page"
    return f"{found[1]}: {found[2]}"


# --- access ---------------------------------------------------------------------------------


def test_only_privacy_officers_open_the_dashboard(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    paths = ("/privacy", "/privacy/review", "/privacy/audit")
    for path in paths:
        anonymous = client.get(path, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login?next=")
    creative = make_account(Role.creative)
    csrf = log_in(client, creative)
    assert "Privacy" not in menu(client.get("/").text)
    for path in paths:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Je rol laat dit niet toe" in response.text
    posted = client.post("/privacy/audit/verify", data={"csrf_token": csrf})
    assert posted.status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    for role in (Role.privacy_officer, Role.admin):
        log_in(client, make_account(role))
        assert 'href="/privacy"' in menu(client.get("/").text)
        for path in paths:
            assert client.get(path).status_code == 200, (role, path)
        client.post("/logout", data={"csrf_token": csrf_of(client.get("/"))})


# --- the panels -----------------------------------------------------------------------------


def test_each_panel_lists_what_it_should(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    unknown_on = upload(client, desk.creative, seed=1, title="Onbekend gezicht")
    suggested_on = upload(client, desk.creative, seed=2, title="Voorgesteld gezicht")
    decided_on = upload(client, desk.creative, seed=3, title="Alles beslist")
    soon, later, gone, recalled = (
        person(desk, n) for n in ("Ann Soon", "Bert Later", "Carla Gone", "Dirk Recalled")
    )
    add_face(desk, unknown_on)
    add_face(desk, unknown_on, x=0.6)
    add_face(desk, suggested_on, state=FaceState.suggested, person_id=soon)
    add_face(desk, decided_on, state=FaceState.confirmed, person_id=gone)
    add_face(desk, decided_on, state=FaceState.confirmed, person_id=recalled, x=0.6)

    consent(desk, soon, days=10, channels=["website", "print"])
    consent(desk, later, days=90, channels=["website"])
    withdraw(desk, consent(desk, gone, days=None, channels=["website"]))
    publish(desk, decided_on, "https://example.test/nieuws/1")
    publish(desk, decided_on, "https://example.test/nieuws/2")
    taken_down = consent(desk, recalled, days=None, channels=["website"])
    # Dirk's picture is published too, but he has not withdrawn: not on the list.
    assert taken_down

    exported = client.get(f"/api/v1/people/{later}/export", headers=desk.officer.headers)
    assert exported.status_code == 200, exported.text
    erased = client.delete(f"/api/v1/people/{soon}?assets=redact", headers=desk.officer.headers)
    assert erased.status_code == 202, erased.text

    html = desk.page("/privacy")
    review = section(html, "review")
    assert "(2)" in review  # two assets with undecided faces; the decided one is not there
    assert "Onbekend gezicht" in review and "2 gezichten te bekijken" in review
    assert "Voorgesteld gezicht" in review  # erasing Ann sent her face back to unknown
    assert "Alles beslist" not in review
    assert review.index("Voorgesteld gezicht") < review.index("Onbekend gezicht")  # newest first
    assert f"/api/v1/assets/{unknown_on}/renditions/thumb" in review

    ending = section(html, "ending")
    assert "Ann Soon" not in ending  # erased: her consent is an anonymous fact now
    assert "Bert Later" not in ending  # ends after the notice period
    assert "Binnen 30 dagen aflopende toestemmingen" in ending

    withdrawn = section(html, "withdrawn")
    assert "Carla Gone" in withdrawn and "2 publicaties" in withdrawn
    assert f"/people/{gone}/takedown" in withdrawn
    assert "Dirk Recalled" not in withdrawn

    done = section(html, "requests")
    emails = done.count(desk.officer.user.email)
    assert emails == 2  # one export, one erasure, each by the officer
    assert f'href="/people/{later}"' in done  # the exported person still exists
    assert "0 vervaagd" in done  # Ann was only suggested on a picture: nothing to blur
    for name in ("Ann Soon", "Bert Later"):
        assert name not in done  # exports and erasures name nobody


def test_consents_ending_and_recalled_publications(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    asset = make_asset(rt, owner=desk.creative.user)
    soon, later, gone = (person(desk, n) for n in ("Eva Soon", "Frank Later", "Gert Gone"))
    add_face(desk, asset, state=FaceState.confirmed, person_id=gone)
    consent(desk, soon, days=5, channels=["website", "print"])
    consent(desk, later, days=45, channels=["website"])
    gone_consent = consent(desk, gone, days=None, channels=["website"])
    usage = publish(desk, asset, "https://example.test/a")
    withdraw(desk, gone_consent)

    ending = section(desk.page("/privacy"), "ending")
    assert "Eva Soon" in ending and "drukwerk, website" in ending
    assert "Frank Later" not in ending
    last_day = clock.now().date() + timedelta(days=5)
    assert str(last_day.year) in ending and f"/people/{soon}#consents" in ending
    withdrawn = section(desk.page("/privacy"), "withdrawn")
    assert "Gert Gone" in withdrawn and "1 publicatie" in withdrawn

    # A longer notice period shows Frank too; the take-down done empties the other list.
    rt.settings.consent_notice_days = 60
    with rt.session() as session:
        usages.mark_recalled(session, usage_id=usage, actor=desk.user())
    html = desk.page("/privacy")
    assert "Frank Later" in section(html, "ending")
    assert "Binnen 60 dagen aflopende toestemmingen" in html
    assert "Gert Gone" not in section(html, "withdrawn")


# --- the review flow ------------------------------------------------------------------------


def test_review_flow_confirms_dismisses_and_moves_on(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    hanna = person(desk, "Hanna Voorstel")
    older = upload(client, desk.creative, seed=5, title="Ouder")
    newer = upload(client, desk.creative, seed=6, title="Nieuwer")
    suggested = add_face(desk, newer, state=FaceState.suggested, person_id=hanna)
    stranger = add_face(desk, newer, x=0.6)
    old_face = add_face(desk, older)

    first = desk.page("/privacy/review")
    assert "Nieuwer" in first  # newest first
    assert "Ja, dit is Hanna Voorstel" in first
    assert f'href="/privacy/review?asset={older}"' in first  # skip to the next one
    assert "2 foto’s en video’s te bekijken" in first

    action = f"/privacy/review/{newer}/faces/{suggested}/confirm"
    after = desk.post(action, person_id=hanna, number="1")
    assert after == f"/privacy/review?asset={newer}#face-{stranger}"  # one face left here
    assert flash_of(desk, after) == "success: Gezicht 1 is bevestigd als Hanna Voorstel."

    # A name nobody has: a privacy officer makes the person and confirms the face.
    after = desk.post(f"/privacy/review/{newer}/faces/{stranger}/confirm", name=" Ivo  Nieuw ")
    assert after == f"/privacy/review?asset={older}"  # done here: on to the next asset
    with rt.session() as session:
        faces = {f.id: f for f in session.exec(select(Face).where(Face.asset_id == newer))}
        ivo = cluster_naming.people_named(session, "Ivo Nieuw")
    assert faces[suggested].state == FaceState.confirmed and faces[suggested].person_id == hanna
    assert faces[stranger].state == FaceState.confirmed
    assert [p.id for p in ivo] == [faces[stranger].person_id]

    page = desk.page(after)
    assert "Ouder" in page and "1 foto of video te bekijken" in page
    bad = desk.post(f"/privacy/review/{older}/faces/{old_face}/dismiss", reason="want ik wil")
    assert bad == f"/privacy/review?asset={older}#face-{old_face}"
    assert flash_of(desk, bad) == "error: Kies waarom het gezicht wordt afgewezen."
    done = desk.post(f"/privacy/review/{older}/faces/{old_face}/dismiss", reason="not a face")
    assert done == "/privacy/review"
    assert "Niets te bekijken" in desk.page(done)
    with rt.session() as session:
        face = session.get(Face, old_face)
        assert face is not None and face.state == FaceState.dismissed
        assert face.dismiss_reason == "not a face"
        actions = [e.action for e in audit.list_entries(session, subject_id=old_face)]
    assert actions == ["face.dismissed"]
    # The verdicts followed: nothing is waiting for review any more.
    assert "(0)" in section(desk.page("/privacy"), "review")


def test_review_refuses_a_face_of_another_asset_and_ambiguous_names(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    # The review page's forms and flashes, not its picture: photos without files.
    one, other = (make_asset(rt, owner=desk.creative.user) for _ in range(2))
    face = add_face(desk, one)
    person(desk, "Jan Dubbel")
    person(desk, "Jan  dubbel")
    wrong = desk.post(f"/privacy/review/{other}/faces/{face}/dismiss", reason="not a face")
    assert flash_of(desk, wrong).startswith("error: Dit is intussen gewijzigd of verwijderd.")
    twice = desk.post(f"/privacy/review/{one}/faces/{face}/confirm", name="jan dubbel")
    assert flash_of(desk, twice) == (
        "error: Meerdere personen hebben deze naam. Kies er een uit de lijst."
    )
    with rt.session() as session:
        still = session.get(Face, face)
        assert still is not None and still.state == FaceState.unknown
    # A name one person has is that person, typed in any case: nobody new is made.
    piet = person(desk, "Piet Enkel")
    once = desk.post(f"/privacy/review/{one}/faces/{face}/confirm", name=" piet  ENKEL ")
    assert flash_of(desk, once) == "success: Gezicht ? is bevestigd als Piet Enkel."
    with rt.session() as session:
        named = session.get(Face, face)
        assert named is not None and named.person_id == piet
        assert [p.id for p in cluster_naming.people_named(session, "Piet Enkel")] == [piet]


# --- the audit log --------------------------------------------------------------------------


def test_audit_log_filters_pages_and_verifies_the_chain(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    subject = person(desk, "Karel Audit")
    with rt.unit_of_work() as session:
        for n in range(60):
            audit.record(
                session,
                action="test.step",
                actor_id=desk.creative.user.id,
                subject_type="thing",
                subject_id=f"thing{n}",
                details={"n": n},
            )

    html = desk.page("/privacy/audit?action=person.created")
    assert f"<code>{subject}</code>" in html and "test.step" in html  # listed as a choice
    assert html.count("<td>persoon toegevoegd</td>") == 1

    by_creative = desk.page(f"/privacy/audit?actor={desk.creative.user.email.upper()}")
    rows = re.findall(r'<th scope="row">(\d+)</th>', by_creative)
    assert len(rows) == 50  # a page
    assert "<code>thing59</code>" in by_creative and "<code>thing10</code>" in by_creative
    assert "<code>thing9</code>" not in by_creative
    older = re.search(r'<a href="([^"]+)" rel="next">Oudere regels</a>', by_creative)
    assert older, "no link to older entries"
    second = desk.page(older[1].replace("&amp;", "&"))
    assert "<code>thing9</code>" in second and "<code>thing59</code>" not in second
    assert "Oudere regels" not in second and "Nieuwste regels" in second

    one = desk.page("/privacy/audit?subject=thing7")
    assert re.findall(r"<code>(thing\d+)</code>", one) == ["thing7"]

    today = clock.today(rt.settings.default_timezone)  # the filter reads local days
    assert "thing3" in desk.page(f"/privacy/audit?since={today - timedelta(days=1)}&until={today}")
    future = desk.page(f"/privacy/audit?since={today + timedelta(days=2)}")
    assert "Geen regels gevonden" in future

    bad = client.get("/privacy/audit?since=gisteren&actor=niemand@example.test")
    assert bad.status_code == 422
    assert "Geef een datum zoals 2026-03-01." in bad.text
    assert "Niemand heeft dit e-mailadres." in bad.text  # every problem at once
    assert "<code>test.step</code>" not in bad.text
    backwards = client.get(f"/privacy/audit?since={today}&until={today - timedelta(days=3)}")
    assert "De einddatum ligt voor de begindatum." in backwards.text

    where = desk.post("/privacy/audit/verify", next="/privacy/audit?action=test.step")
    assert where == "/privacy/audit?action=test.step"
    with rt.session() as session:
        entries = audit.verify(session).entries
    assert flash_of(desk, where) == f"success: De keten is in orde: {entries} regels nagerekend."

    with rt.unit_of_work() as session:
        tampered = session.exec(select(AuditEntry).where(AuditEntry.subject_id == "thing20")).one()
        session.execute(
            text("UPDATE audit_entry SET details = :d WHERE seq = :s"),
            {"d": '{"n": 21}', "s": tampered.seq},
        )
    where = desk.post("/privacy/audit/verify", next="//evil.example/")
    assert where == "/privacy/audit"  # no open redirect
    assert flash_of(desk, where).startswith(f"error: De keten is gebroken bij regel {tampered.seq}")


def test_audit_details_are_named_in_words(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """An entry's details by name, and roles, channels, sign-in methods, yes/no and sizes
    in words (issue 15); ids and fingerprints as recorded, an unknown key as it is."""
    desk = make_desk(client, rt, make_account)
    with rt.unit_of_work() as session:
        audit.record(
            session,
            action="test.details",
            subject_type="thing",
            subject_id="thing-details",
            details={
                "method": "password",
                "from": "viewer",
                "to": "privacy_officer",
                "channel": "social",
                "channels": ["website", "print"],
                "is_minor": True,
                "size": 2_492_140,
                "sha256": "9925b0627752",
                "odd_key": 1234,
            },
        )
    html = desk.page("/privacy/audit?subject=thing-details")
    cell = re.search(r'<td class="audit-details">(.*?)</td>', html, re.S)
    assert cell is not None
    shown = re.sub(r"\s+", " ", cell[1]).strip()
    assert shown == (
        "<span>aanmeldwijze: wachtwoord</span> "
        "<span>rol ervoor: raadpleger</span> "
        "<span>rol erna: privacyverantwoordelijke</span> "
        "<span>kanaal: sociale media</span> "
        "<span>kanalen: website, drukwerk</span> "
        "<span>minderjarig: ja</span> "
        "<span>bestandsgrootte: 2,4 MB</span> "
        "<span>vingerafdruk (SHA-256): <code>9925b0627752</code></span> "
        "<span><code>odd_key</code>: 1.234</span>"
    )


# --- notices --------------------------------------------------------------------------------


def test_notices_show_unread_first_and_are_marked_read(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    desk = make_desk(client, rt, make_account)
    asset = make_asset(rt, owner=desk.creative.user)
    lies, mark = person(desk, "Lies Melding"), person(desk, "Mark Melding")
    add_face(desk, asset, state=FaceState.confirmed, person_id=mark)
    consent(desk, lies, days=3, channels=["internal"])
    marks_consent = consent(desk, mark, days=None, channels=["website"])
    publish(desk, asset, "https://example.test/b")
    withdraw(desk, marks_consent)  # a notice: one publication to recall
    with rt.unit_of_work() as session:
        assert notifications.notice_endings(session, rt.settings) == 1

    html = desk.page("/privacy")
    assert 'Privacy <span class="nav-badge">2' in menu(html)
    notices = section(html, "notices")
    assert "(2 ongelezen)" in notices
    assert "Een toestemming werd ingetrokken; 1 publicatie terug te roepen." in notices
    assert f'href="/people/{mark}/takedown"' in notices
    assert (
        "Een toestemming loopt af: geldig tot en met" in notices
        and f'href="/people/{lies}"' in notices
    )
    for name in ("Lies Melding", "Mark Melding"):
        assert name not in notices  # notices hold ids; the linked page names the person

    english = client.get("/privacy", headers={"Accept-Language": "en"})
    assert english.status_code == 200

    with rt.session() as session:
        withdrawn = session.exec(
            select(Notification).where(Notification.kind == notifications.CONSENT_WITHDRAWN)
        ).one()
    where = desk.post(f"/privacy/notices/{withdrawn.id}/read")
    assert where == "/privacy#notices"
    html = desk.page("/privacy")
    assert 'Privacy <span class="nav-badge">1' in menu(html)
    notices = section(html, "notices")
    assert "(1 ongelezen)" in notices
    # Unread above read; the read one lost its button.
    assert notices.index("loopt af:") < notices.index("werd ingetrokken")
    assert f"/privacy/notices/{withdrawn.id}/read" not in notices
    with rt.session() as session:
        read = session.get(Notification, withdrawn.id)
        assert read is not None and read.read_by == desk.officer.user.id

    with rt.session() as session:
        for notice in notifications.unread(session):
            notifications.mark_read(session, notice.id, desk.user())
    assert "nav-badge" not in menu(desk.page("/privacy"))
    assert "nav-badge" not in menu(desk.page("/"))


def test_the_menu_count_is_for_privacy_officers_only(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    with rt.unit_of_work() as session:
        notifications.add(
            session,
            kind="consent.ending",
            subject_type="consent",
            subject_id="c1",
            dedupe_key="x",
            params={"person_id": "p1", "date": "2030-01-01T00:00:00+00:00"},
        )
    log_in(client, make_account(Role.creative))
    assert "nav-badge" not in client.get("/").text


def test_audit_detail_codes_moments_and_lists_are_in_words(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    """Codes a detail records (where an upload came from, the fields an edit changed, a
    file format, a language, why a sign-on was refused, a licence status) have names in
    both languages; a moment is written as one; a list of ids is ids, not JSON."""
    desk = make_desk(client, rt, make_account)
    with rt.unit_of_work() as session:
        audit.record(
            session,
            action="download.archive_fetched",
            subject_type="download",
            subject_id="thing-codes",
            details={
                "source": "import",
                "fields": ["title", "alt_text"],
                "format": "srt",
                "language": "fr",
                "reason": "no_role",
                "status": None,
                "preset": "web",
                "rendition": "web_1080",
                "expires_at": "2026-03-02T23:30:00+00:00",
                "asset_ids": ["a1", "a2"],
                "captions": True,
                "assets": 1234,
            },
        )
    expected = {
        "nl": (
            "<td>ZIP-download opgehaald</td>",
            "ZIP-download <a",
            "<span>bron: mapimport</span> "
            "<span>velden: titel, alternatieve tekst</span> "
            "<span>bestandsformaat: SRT</span> "
            "<span>taal: Frans</span> "
            "<span>reden: geen rol gekregen</span> "
            "<span>licentiestatus: onbekend</span> "
            "<span>beeldformaat: Web (1600 px)</span> "
            "<span>versie: webversie 1080p</span> "
            "<span>vervalt: 3 maart 2026 00:30</span> "
            "<span>bestanden: <code>a1</code>, <code>a2</code></span> "
            "<span>met ondertitels: ja</span> "
            "<span>bestanden: 1.234</span>",
        ),
        "en": (
            "<td>downloaded a ZIP</td>",
            "ZIP download <a",
            "<span>source: folder import</span> "
            "<span>fields: title, alt text</span> "
            "<span>file format: SRT</span> "
            "<span>language: French</span> "
            "<span>reason: no role given</span> "
            "<span>licence status: unknown</span> "
            "<span>picture size: Web (1600 px)</span> "
            "<span>version: web version 1080p</span> "
            "<span>expires: 3 March 2026 00:30</span> "
            "<span>assets: <code>a1</code>, <code>a2</code></span> "
            "<span>with subtitles: yes</span> "
            "<span>assets: 1,234</span>",
        ),
    }
    for locale, (action, subject, details) in expected.items():
        desk.post("/language", locale=locale, next="/privacy/audit")
        html = desk.page("/privacy/audit?subject=thing-codes")
        cell = re.search(r'<td class="audit-details">(.*?)</td>', html, re.S)
        assert cell is not None
        assert re.sub(r"\s+", " ", cell[1]).strip() == details
        assert action in html and subject in html
