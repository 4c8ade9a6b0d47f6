"""The consent pages over HTTP on both databases: recording a consent with its signed form
(a restricted asset nobody else sees), changing it into version 2, withdrawing in three
requests, the take-down list, and an asset's verdict badges with the forms beside them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from dam.models import Asset, AuditEntry, Consent, FaceState, Role, Usage
from dam.runtime import Runtime
from tests import media
from tests.conftest import Account
from tests.gdpr.consent.test_consents_http import person, with_face
from tests.ui_client import csrf_of, log_in, upload

pytestmark = pytest.mark.one_database

NAME = "Marieke Vandenbroucke"  # as tests.gdpr.consent.test_consents_http.person names her


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+" role="\w+">([^<]*)</p>', html)


def text_of(html: str) -> str:
    """The page's words without tags, spaces squeezed (what a reader sees, roughly)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def officer(make_account: Callable[[Role], Account]) -> Account:
    return make_account(Role.privacy_officer)


@pytest.fixture
def other_client(client: TestClient) -> Iterator[TestClient]:
    """A second browser on the same app, for a second person logged in at once."""
    with TestClient(client.app, raise_server_exceptions=False) as second:
        yield second


def photo_with(client: TestClient, rt: Runtime, creative: Account, pid: str, seed: int) -> str:
    asset_id = upload(client, creative, seed=seed, title=f"Optocht {seed}", licence_status="own")
    with_face(rt, asset_id, pid, FaceState.confirmed)
    return asset_id


def record(client: TestClient, token: str, pid: str, **fields: object) -> tuple[int, str]:
    """Post the consent form as a browser does (multipart, the file optional)."""
    data: dict[str, object] = {
        "csrf_token": token,
        "channels": ["internal", "website"],
        "granted_at": "2026-01-01",
        "valid_until": "",
        "guardian_name": "",
        "form_version": "2026-A",
        "notes": "",
        **fields,
    }
    evidence = data.pop("evidence", None)
    files = {"evidence": ("formulier.jpg", evidence, "image/jpeg")} if evidence else None
    response = client.post(
        f"/people/{pid}/consents", data=data, files=files, follow_redirects=False
    )
    return response.status_code, response.headers.get("location", response.text)


def statuses(client: TestClient, account: Account, asset_id: str) -> dict[str, str]:
    found = client.get(f"/api/v1/assets/{asset_id}/verdict", headers=account.headers).json()
    return {channel: v["status"] for channel, v in found.items()}


def test_record_change_and_withdraw_in_three_requests(
    client: TestClient,
    other_client: TestClient,
    rt: Runtime,
    creative: Account,
    officer: Account,
) -> None:
    pid = person(client, officer)
    asset_id = photo_with(client, rt, creative, pid, seed=11)
    token = log_in(client, officer)

    page = client.get(f"/people/{pid}")
    assert page.status_code == 200
    assert "Toestemming registreren" in page.text
    assert f"Geen toestemming geregistreerd voor {NAME}." in page.text
    assert f'href="/people/{pid}/withdraw"' not in page.text  # nothing to withdraw yet

    form = media.jpeg(120, 160, seed=901)
    status, location = record(client, token, pid, evidence=form, valid_until="2027-06-30")
    assert (status, location) == (303, f"/people/{pid}#consents")
    page = client.get(f"/people/{pid}")
    assert "De toestemming is geregistreerd." in flashes(page.text)
    words = text_of(page.text)
    assert "Versie 1 ✓ actief" in words
    assert "intern gebruik" in words and "website" in words
    assert "1 januari 2026" in words and "30 juni 2027" in words  # through 30 June itself
    assert officer.user.email in words
    assert statuses(client, officer, asset_id)["internal"] == "cleared"

    with rt.session() as session:
        consent = session.exec(select(Consent).where(Consent.person_id == pid)).one()
        assert consent.evidence_asset_id
        evidence = session.get(Asset, consent.evidence_asset_id)
        assert evidence is not None and evidence.restricted and evidence.is_evidence
        evidence_id = evidence.id
    assert f'href="/api/v1/assets/{evidence_id}/original"' in page.text
    # The signed form is the officer's to open, and nobody else's to even find.
    opened = client.get(f"/api/v1/assets/{evidence_id}/original", headers=officer.headers)
    assert opened.status_code == 200 and opened.content == form
    hidden = client.get(f"/api/v1/assets/{evidence_id}", headers=creative.headers)
    assert hidden.status_code == 404
    listed = client.get("/api/v1/assets?per_page=100", headers=creative.headers).json()
    ids = {a["id"] for a in listed["items"]}
    assert asset_id in ids and evidence_id not in ids
    log_in(other_client, creative)
    library = other_client.get("/")
    assert library.status_code == 200
    assert asset_id in library.text and evidence_id not in library.text
    assert other_client.get(f"/assets/{evidence_id}").status_code == 404
    # Not a library asset: no library page, not even for the officer (its consent has it).
    assert client.get(f"/assets/{evidence_id}").status_code == 404
    assert other_client.get(f"/people/{pid}/withdraw").status_code == 403
    assert "consents-heading" not in other_client.get(f"/people/{pid}").text

    # Change: the form comes prefilled; saving makes version 2 and keeps version 1.
    change = client.get(f"/consents/{consent.id}/change")
    assert change.status_code == 200
    assert 'id="consent-channel-website" name="channels" value="website" checked' in change.text
    assert 'value="2027-06-30"' in change.text and 'value="2026-A"' in change.text
    response = client.post(
        f"/consents/{consent.id}/change",
        data={
            "csrf_token": csrf_of(change),
            "channels": ["internal", "website", "print"],
            "granted_at": "2026-01-01",
            "valid_until": "2027-06-30",
            "form_version": "2026-B",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(f"/people/{pid}")
    assert "Versie 2 is geregistreerd." in flashes(page.text)
    words = text_of(page.text)
    assert "Versie 2 ✓ actief" in words and "Versie 1 ↻ vervangen" in words
    assert statuses(client, officer, asset_id)["print"] == "cleared"
    with rt.session() as session:
        versions = session.exec(
            select(Consent).where(Consent.person_id == pid).order_by(col(Consent.version))
        ).all()
        assert [v.version for v in versions] == [1, 2]
        assert versions[1].supersedes_id == versions[0].id
        assert versions[1].evidence_asset_id == evidence_id  # the form on file stays

    # Withdrawal: (1) the button on the person page, (2) the confirmation page that says
    # what will happen, (3) the confirmation itself.
    assert f'<a class="button danger" href="/people/{pid}/withdraw">' in page.text
    confirm = client.get(f"/people/{pid}/withdraw")
    assert confirm.status_code == 200
    words = text_of(confirm.text)
    assert "1 toestemming die geldt, wordt vanaf nu ingetrokken." in words
    assert f"1 foto of video waarop {NAME} bevestigd is, wordt geblokkeerd" in words
    done = client.post(
        f"/people/{pid}/withdraw",
        data={"csrf_token": csrf_of(confirm), "reason": "Gevraagd per e-mail"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/people/{pid}/takedown"
    assert set(statuses(client, officer, asset_id).values()) == {"blocked"}
    takedown = client.get(done.headers["location"])
    assert "De toestemming is ingetrokken" in " ".join(flashes(takedown.text))
    page = client.get(f"/people/{pid}")
    words = text_of(page.text)
    assert "Versie 2 ✕ ingetrokken" in words and "Gevraagd per e-mail" in words
    assert f'href="/people/{pid}/withdraw"' not in page.text
    with rt.session() as session:
        entries = session.exec(select(AuditEntry)).all()
        assert {"consent.recorded", "consent.replaced", "consent.withdrawn"} <= {
            e.action for e in entries
        }
        assert not any(NAME in str(e.details) for e in entries)


def test_form_problems_come_back_beside_their_fields(
    client: TestClient, rt: Runtime, officer: Account
) -> None:
    pid = person(client, officer, is_minor=True)
    token = log_in(client, officer)
    with rt.session() as session:
        assets_before = len(session.exec(select(Asset)).all())

    status, html = record(client, token, pid, channels=[], granted_at="1-1-2026")
    assert status == 422
    assert "Kies minstens één kanaal dat de toestemming dekt." in html
    assert "Vul de datum in waarop de toestemming gegeven werd, zoals 2026-03-01." in html
    assert "Deze persoon is minderjarig" in html
    assert 'aria-invalid="true"' in html

    status, html = record(
        client, token, pid, guardian_name="Ouder Van Kind", valid_until="2025-12-31"
    )
    assert status == 422
    assert "De laatste dag kan niet vóór de datum van de toestemming liggen." in html
    assert 'value="Ouder Van Kind"' in html  # what was typed stays

    status, html = record(
        client, token, pid, guardian_name="Ouder Van Kind", evidence=b"GIF89a not a form"
    )
    assert status == 422
    assert "Upload het getekende formulier als PDF-, JPEG-, PNG- of HEIC-bestand." in html
    with rt.session() as session:
        assert session.exec(select(Consent).where(Consent.person_id == pid)).all() == []
        assert len(session.exec(select(Asset)).all()) == assets_before

    assert record(client, token, pid, guardian_name="Ouder Van Kind")[0] == 303
    assert "Ouder Van Kind" in client.get(f"/people/{pid}").text


def test_the_take_down_list_after_a_withdrawal(
    client: TestClient,
    other_client: TestClient,
    rt: Runtime,
    creative: Account,
    officer: Account,
) -> None:
    pid = person(client, officer)
    asset_id = photo_with(client, rt, creative, pid, seed=12)
    token = log_in(client, officer)
    assert record(client, token, pid)[0] == 303

    # The creative records where the photo went, from the asset page's form.
    creative_token = log_in(other_client, creative)
    posted = other_client.post(
        f"/assets/{asset_id}/usages",
        data={
            "csrf_token": creative_token,
            "channel": "website",
            "url": "https://www.example.org/nieuws/optocht",
            "note": "Nieuwsbericht",
            "next": f"/assets/{asset_id}",
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/assets/{asset_id}#publishing"
    bad = other_client.post(
        f"/assets/{asset_id}/usages",
        data={"csrf_token": creative_token, "channel": "website", "url": "javascript:alert(1)"},
        follow_redirects=False,
    )
    assert bad.status_code == 303
    assert "Geef een webadres dat begint met http:// of https://." in flashes(
        other_client.get(f"/assets/{asset_id}").text
    )
    with rt.session() as session:
        assert len(session.exec(select(Usage)).all()) == 1

    confirm = client.get(f"/people/{pid}/withdraw")
    assert "1 gepubliceerd gebruik komt op de lijst om te verwijderen." in text_of(confirm.text)
    client.post(f"/people/{pid}/withdraw", data={"csrf_token": csrf_of(confirm)})
    page = client.get(f"/people/{pid}/takedown")
    assert page.status_code == 200
    link = '<a href="https://www.example.org/nieuws/optocht" rel="noopener noreferrer"'
    assert link in page.text
    words = text_of(page.text)
    assert "Te verwijderen (1)" in words and "Optocht 12" in words and "website" in words
    assert creative.user.email in words and "Nieuwsbericht" in words
    assert f"/api/v1/assets/{asset_id}/renditions/thumb" in page.text
    # The badge tells the take-down's state; a green "confirmed" read as "all fine".
    assert "✕ nog offline te halen" in words and f"{NAME} staat er bevestigd op." in words
    assert "state-active" not in page.text

    with rt.session() as session:
        usage_id = session.exec(select(Usage.id)).one()
    recalled = client.post(
        f"/usages/{usage_id}/recall",
        data={"csrf_token": csrf_of(page), "next": f"/people/{pid}/takedown"},
        follow_redirects=False,
    )
    assert recalled.headers["location"] == f"/people/{pid}/takedown"
    page = client.get(f"/people/{pid}/takedown")
    words = text_of(page.text)
    assert "Niets meer te verwijderen." in words and "Verwijderd (1)" in words
    assert 'class="takedown-item recalled"' in page.text
    assert "✓ offline gehaald" in words and "nog offline te halen" not in words
    assert "Markeren als verwijderd" not in page.text
    with rt.session() as session:
        usage = session.get(Usage, usage_id)
        assert usage is not None and usage.recalled_at is not None


def test_the_asset_page_shows_each_channel_with_its_reasons(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    pid = person(client, officer)
    asset_id = photo_with(client, rt, creative, pid, seed=13)
    token = log_in(client, creative)

    page = client.get(f"/assets/{asset_id}")
    assert page.status_code == 200
    words = text_of(page.text)
    # One summary: the channels with the same reasons on one line, not six times.
    assert (
        "✕ geblokkeerd Intern gebruik, intranet, drukwerk, pers : "
        f"Er is geen toestemming van {NAME}." in words
    )  # creatives may read people
    # The summary, the other group's line, the share-link panel and the download control.
    assert words.count(f"Er is geen toestemming van {NAME}.") == 4

    # People the detector missed and an embargo: the one details form, saved once.
    form = {"csrf_token": token, "title": "Optocht 13", "undetected_people": "true"}
    saved = client.post(f"/assets/{asset_id}?i=0", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/assets/{asset_id}?i=0"
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None and asset.undetected_people
    log_in(client, officer)
    token = csrf_of(client.get(f"/people/{pid}"))
    record(client, token, pid)
    page = client.get(f"/assets/{asset_id}")
    words = text_of(page.text)
    assert "? na te kijken Intern gebruik" in words
    assert "Iemand meldde dat er niet-gedetecteerde personen op staan." in words
    assert 'id="undetected-people" name="undetected_people" value="true" checked' in page.text

    form = {"csrf_token": token, "title": "Optocht 13", "embargo_on": "2099-01-01"}
    client.post(f"/assets/{asset_id}", data=form)
    page = client.get(f"/assets/{asset_id}")
    words = text_of(page.text)
    assert "Onder embargo tot 1 januari 2099." in words
    assert 'name="embargo_on" type="date" value="2099-01-01"' in page.text
    assert "niet-gedetecteerde personen op staan" not in words  # unticked: saved as such
    bad = client.post(f"/assets/{asset_id}", data=form | {"embargo_on": "31/12/2099"})
    assert bad.status_code == 422 and 'id="error-embargo_on"' in bad.text
    client.post(f"/assets/{asset_id}", data=form | {"embargo_on": ""})
    assert statuses(client, officer, asset_id)["internal"] == "cleared"

    client.post("/language", data={"csrf_token": token, "locale": "en"})
    english = text_of(client.get(f"/assets/{asset_id}").text)
    assert "✓ cleared Internal use : " in english
    assert f"{NAME} gave consent" in english
    assert "✕ blocked Website : " in english  # no alt text yet


def test_a_change_by_itself_is_promised_only_where_it_happens(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    """A consent for internal use that ends soon: internal use changes by itself on that
    day; the website (not covered) stays blocked, so nothing is promised there."""
    pid = person(client, officer)
    asset_id = photo_with(client, rt, creative, pid, seed=14)
    token = log_in(client, officer)
    record(client, token, pid, channels=["internal"], valid_until="2099-06-30")
    page = client.get(f"/assets/{asset_id}")
    groups = re.findall(r'<li class="verdict-group status-(\w+)">(.*?)</li>', page.text, re.S)
    by_status = {status: text_of(body) for status, body in groups}
    assert "Intern gebruik" in by_status["cleared"]
    assert "Dit verandert vanzelf op" in by_status["cleared"]
    assert "Vanaf dan: geblokkeerd." in by_status["cleared"]
    assert "verandert vanzelf" not in by_status["blocked"]
    assert text_of(page.text).count("verandert vanzelf") == 1
