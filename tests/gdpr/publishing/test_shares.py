"""Share links through the API and their public pages: a link serves only while it is
neither revoked nor expired and the asset is cleared for its channel, says why otherwise
without naming anyone, keeps its password, and its embed page sets no cookie."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from dam import clock
from dam.errors import NotFound
from dam.models import AuditEntry, FaceState, Role, ShareLink
from dam.runtime import Runtime
from gdpr.publishing import shares
from tests import media
from tests.conftest import Account
from tests.feed_factories import make_asset, make_face
from tests.ui_client import csrf_of, log_in

pytestmark = pytest.mark.one_database

NAME = "Griet Vermeulen"


@pytest.fixture
def officer(make_account: Callable[[Role], Account]) -> Account:
    return make_account(Role.privacy_officer)


def upload(client: TestClient, account: Account, *, seed: int = 1, **fields: str) -> str:
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (f"zomer-{seed}.jpg", media.jpeg(seed=seed), "image/jpeg")},
        # About sharing: the team's own photo, so the licence holds nothing back.
        data={"title": "Zomerfeest in het park", "licence_status": "own", **fields},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def photo(rt: Runtime, owner: Account) -> str:
    """A processed photo straight through the services, for the tests that never open
    the link (the ones that do upload it: the share page and file need renditions)."""
    return make_asset(rt, "Zomerfeest in het park", owner=owner.user)


def share(client: TestClient, account: Account, asset_id: str, **body: object) -> dict:
    response = client.post(
        f"/api/v1/assets/{asset_id}/shares",
        headers=account.headers,
        json={"channel": "internal", **body},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def with_person(client: TestClient, rt: Runtime, officer: Account, asset_id: str) -> str:
    """A named person confirmed on the asset (detection itself is tested on real photos in
    test_faces_api.py; here what links do on top of the verdict is)."""
    created = client.post("/api/v1/people", headers=officer.headers, json={"name": NAME})
    assert created.status_code == 201, created.text
    person_id = str(created.json()["id"])
    make_face(rt, asset_id, state=FaceState.confirmed, person_id=person_id)
    return person_id


def give_consent(client: TestClient, officer: Account, person_id: str, channels: list[str]) -> str:
    response = client.post(
        f"/api/v1/people/{person_id}/consents",
        headers=officer.headers,
        json={"channels": channels, "granted_at": "2026-01-01"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def set_alt_text(client: TestClient, account: Account, asset_id: str, text: str) -> None:
    patched = client.patch(
        f"/api/v1/assets/{asset_id}", headers=account.headers, json={"alt_text": text}
    )
    assert patched.status_code == 200, patched.text


def withdraw(client: TestClient, officer: Account, consent_id: str) -> None:
    withdrawn = client.post(
        f"/api/v1/consents/{consent_id}/withdraw",
        headers=officer.headers,
        json={"reason": "wil niet meer online"},
    )
    assert withdrawn.status_code == 200, withdrawn.text


def test_create_serve_download_and_list(client: TestClient, rt: Runtime, creative: Account) -> None:
    asset_id = upload(client, creative, seed=11)
    created = share(client, creative, asset_id)
    token = created["token"]
    assert created["url"] == f"http://testserver/s/{token}"
    assert created["channel"] == "internal" and created["state"] == "active"
    assert created["has_password"] is False and created["expires_at"] is None

    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert "<h1>Zomerfeest in het park</h1>" in page.text
    assert f'src="/s/{token}/file"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "set-cookie" not in page.headers  # no password: nothing to remember

    picture = client.get(f"/s/{token}/file")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(picture.content)).size == (640, 480)
    part = client.get(f"/s/{token}/file", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == picture.content[:100]

    download = client.get(f"/s/{token}/download")
    assert download.status_code == 200 and download.headers["content-type"] == "image/jpeg"
    assert 'filename="zomer-11-internal.jpg"' in download.headers["content-disposition"]
    assert Image.open(io.BytesIO(download.content)).format == "JPEG"

    listed = client.get(f"/api/v1/assets/{asset_id}/shares", headers=creative.headers).json()
    assert [(s["id"], s["state"], s["views"]) for s in listed] == [(created["id"], "active", 1)]
    assert "token" not in listed[0]
    with rt.session() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "share.created")).one()
        assert entry.subject_id == asset_id and entry.actor_id == creative.user.id
        assert entry.details["link_id"] == created["id"]
        assert token not in str(entry.details)


def test_the_token_is_random_and_only_its_hash_is_stored(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = photo(rt, creative)
    tokens = [share(client, creative, asset_id)["token"] for _ in range(3)]
    assert len(set(tokens)) == 3
    # 24 random bytes in URL-safe base64: 32 characters, 192 bits.
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", t) for t in tokens)
    with rt.session() as session:
        rows = session.exec(select(ShareLink)).all()
        stored = {r.token_hash for r in rows}
        assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
        dump = " ".join(str(r.model_dump()) for r in rows)
        dump += " ".join(str(e.details) for e in session.exec(select(AuditEntry)))
    assert not any(t in dump for t in tokens)
    # A near miss, a made-up token and one that is no token at all find nothing.
    for wrong in (tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B"), "x" * 32, "a'b"):
        response = client.get(f"/s/{wrong}/file")
        assert response.status_code == 404
        assert "Op dit adres is niets gedeeld" in response.text
    assert client.get("/s/..%2F/file").status_code == 404


def test_bad_input_is_refused_with_a_reason(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = photo(rt, creative)
    url = f"/api/v1/assets/{asset_id}/shares"
    cases = [
        ({"channel": "billboard"}, "Unknown channel"),
        ({"channel": "internal", "expires_at": "2001-01-01"}, "in the past"),
        ({"channel": "internal", "password": "kort"}, "at least 8 characters"),
        ({"channel": "internal", "token": "mine"}, "token"),
    ]
    for body, message in cases:
        response = client.post(url, headers=creative.headers, json=body)
        assert response.status_code == 422, body
        assert message in response.json()["error"]["message"], response.json()
    missing = client.post(
        "/api/v1/assets/unknown/shares", headers=creative.headers, json={"channel": "internal"}
    )
    assert missing.status_code == 404
    assert client.delete("/api/v1/shares/unknown", headers=creative.headers).status_code == 404


def test_password_flow_with_rate_limit(
    client: TestClient, creative: Account, make_account: Callable[[Role], Account]
) -> None:
    asset_id = upload(client, creative, seed=14)
    created = share(client, creative, asset_id, password="zomer in gent")
    token = created["token"]
    assert created["has_password"] is True
    locked = client.get(f"/s/{token}")
    assert locked.status_code == 200
    assert 'type="password"' in locked.text and "/file" not in locked.text
    assert client.get(f"/s/{token}/file").status_code == 403

    wrong = client.post(f"/s/{token}", data={"password": "winter in gent"})
    assert wrong.status_code == 403 and "Dat wachtwoord klopt niet" in wrong.text
    assert "set-cookie" not in wrong.headers

    right = client.post(f"/s/{token}", data={"password": "zomer in gent"}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == f"/s/{token}"
    cookie = right.headers["set-cookie"]
    assert f"Path=/s/{token}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    opened = client.get(f"/s/{token}")
    assert opened.status_code == 200 and f'src="/s/{token}/file"' in opened.text
    assert client.get(f"/s/{token}/file").status_code == 200

    # The cookie opens only its own link: another protected link still asks.
    other = share(client, creative, asset_id, password="zomer in gent")["token"]
    value = right.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    client.cookies.set("beeldbank_share", value, path=f"/s/{other}")
    assert client.get(f"/s/{other}/file").status_code == 403

    # Five wrong guesses from one client, then even the right password waits.
    for _ in range(5):
        assert client.post(f"/s/{other}", data={"password": "raden raden"}).status_code == 403
    limited = client.post(f"/s/{other}", data={"password": "zomer in gent"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "Te veel foute wachtwoorden" in limited.text


def test_expiry_follows_the_clock(
    client: TestClient, creative: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    asset_id = upload(client, creative, seed=15)
    until = (clock.now() + timedelta(hours=2)).replace(microsecond=0)
    created = share(client, creative, asset_id, expires_at=until.isoformat())
    assert datetime.fromisoformat(created["expires_at"]) == until
    token = created["token"]
    assert client.get(f"/s/{token}").status_code == 200
    later = until + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later.astimezone(UTC))
    gone = client.get(f"/s/{token}", headers={"Accept-Language": "en"})
    assert gone.status_code == 410
    assert "This link expired on" in gone.text
    assert client.get(f"/s/{token}/file").status_code == 410
    assert client.get(f"/embed/{token}").status_code == 410
    listed = client.get(f"/api/v1/assets/{asset_id}/shares", headers=creative.headers).json()
    assert listed[0]["state"] == "expired"


def test_revoked_links_are_gone(client: TestClient, rt: Runtime, creative: Account) -> None:
    asset_id = upload(client, creative, seed=16)
    created = share(client, creative, asset_id)
    token = created["token"]
    assert client.get(f"/s/{token}/file").status_code == 200
    revoked = client.delete(f"/api/v1/shares/{created['id']}", headers=creative.headers)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert revoked.json()["revoked_by"] == creative.user.id
    page = client.get(f"/s/{token}")
    assert page.status_code == 410 and "heeft hem ingetrokken" in page.text
    assert client.get(f"/s/{token}/file").status_code == 410
    assert client.get(f"/s/{token}/download").status_code == 410
    again = client.delete(f"/api/v1/shares/{created['id']}", headers=creative.headers)
    assert again.status_code == 200
    with rt.session() as session:
        actions = [
            e.details
            for e in session.exec(select(AuditEntry).where(AuditEntry.action == "share.revoked"))
        ]
    assert actions == [{"link_id": created["id"], "channel": "internal"}]  # once, ids only


def test_not_cleared_says_why_without_names(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    asset_id = upload(client, creative, seed=17)
    person_id = with_person(client, rt, officer, asset_id)
    consent_id = give_consent(client, officer, person_id, ["internal", "website"])
    set_alt_text(client, creative, asset_id, "Kinderen dansen op het gras")
    token = share(client, creative, asset_id, channel="website")["token"]
    assert client.get(f"/s/{token}/file").status_code == 200
    # Then the website loses both what it needs: alt text and a consent that covers it.
    set_alt_text(client, creative, asset_id, "")
    withdraw(client, officer, consent_id)
    give_consent(client, officer, person_id, ["internal"])
    for lang, texts in {
        "nl": ("Alternatieve tekst ontbreekt", "Niet iedereen op dit beeld heeft geldige"),
        "en": ("Alt text is missing", "Not everyone in this picture has given valid"),
    }.items():
        page = client.get(f"/s/{token}", headers={"Accept-Language": lang})
        assert page.status_code == 409
        assert all(t in page.text for t in texts), page.text
        for secret in (NAME, "Griet", person_id, asset_id):
            assert secret not in page.text
    assert client.get(f"/s/{token}/file").status_code == 409
    embed = client.get(f"/embed/{token}")
    assert embed.status_code == 409 and NAME not in embed.text
    # The same asset shared for a channel the consent covers serves.
    assert client.get(f"/s/{share(client, creative, asset_id)['token']}/file").status_code == 200


def test_withdrawal_stops_a_working_link_at_once(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    asset_id = upload(client, creative, seed=18)
    person_id = with_person(client, rt, officer, asset_id)
    consent_id = give_consent(client, officer, person_id, ["internal", "intranet"])
    token = share(client, creative, asset_id, channel="intranet")["token"]
    assert client.get(f"/s/{token}/file").status_code == 200
    assert client.get(f"/embed/{token}").status_code == 200
    withdraw(client, officer, consent_id)
    page = client.get(f"/s/{token}")
    assert page.status_code == 409 and NAME not in page.text
    assert "Niet iedereen op dit beeld heeft geldige toestemming gegeven voor intranet" in page.text
    assert client.get(f"/s/{token}/file").status_code == 409
    assert client.get(f"/s/{token}/download").status_code == 409
    assert client.get(f"/embed/{token}").status_code == 409


def test_embed_sets_no_cookie_loads_nothing_foreign_and_may_be_framed(
    client: TestClient, creative: Account
) -> None:
    asset_id = upload(client, creative, seed=19)
    patched = client.patch(
        f"/api/v1/assets/{asset_id}",
        headers=creative.headers,
        json={"alt_text": "Kinderen dansen op het gras"},
    )
    assert patched.status_code == 200
    token = share(client, creative, asset_id)["token"]
    # Even a browser with a Beeldbank session gets no cookie from the embed.
    log_in(client, creative)
    embed = client.get(f"/embed/{token}")
    assert embed.status_code == 200
    assert "set-cookie" not in embed.headers
    assert 'alt="Kinderen dansen op het gras"' in embed.text
    urls = re.findall(r'(?:src|href|poster|action)="([^"]*)"', embed.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert not re.search(r"https?://", embed.text)
    csp = embed.headers["content-security-policy"]
    assert "frame-ancestors *" in csp and "default-src 'self'" in csp
    assert "x-frame-options" not in embed.headers
    # Framing stays forbidden everywhere else, the share page included.
    page = client.get(f"/s/{token}")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    # A protected link cannot be embedded (no cookie to remember its password).
    protected = share(client, creative, asset_id, password="geheim genoeg")["token"]
    locked = client.get(f"/embed/{protected}")
    assert locked.status_code == 200 and f'href="/s/{protected}"' in locked.text
    assert "/file" not in locked.text and "set-cookie" not in locked.headers


def test_ui_panel_creates_shows_once_and_revokes(
    client: TestClient, rt: Runtime, creative: Account, make_account: Callable[[Role], Account]
) -> None:
    asset_id = upload(client, creative, seed=20)
    csrf = log_in(client, creative)
    page = client.get(f"/assets/{asset_id}/shares")
    assert page.status_code == 200 and "Nieuwe deellink" in page.text
    refused = client.post(
        f"/assets/{asset_id}/shares",
        data={"channel": "internal", "expires_on": "2001-01-01", "csrf_token": csrf},
    )
    assert "De einddatum ligt in het verleden" in refused.text
    made = client.post(
        f"/assets/{asset_id}/shares",
        data={"channel": "print", "password": "", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303
    shown = client.get(made.headers["location"])
    found = re.search(r'id="share-created-url" type="text" readonly value="([^"]+)"', shown.text)
    assert found and "/s/" in found[1]
    token = found[1].rsplit("/", 1)[1]
    assert f"/embed/{token}" in shown.text
    # Shown once: the next visit lists the link but no longer knows its address.
    again = client.get(f"/assets/{asset_id}/shares")
    assert token not in again.text and "drukwerk" in again.text
    link_id = client.get(f"/api/v1/assets/{asset_id}/shares", headers=creative.headers).json()[0][
        "id"
    ]
    no_csrf = client.post(f"/shares/{link_id}/revoke", data={})
    assert no_csrf.status_code == 403
    revoked = client.post(f"/shares/{link_id}/revoke", data={"csrf_token": csrf_of(again)})
    assert "De link is ingetrokken" in revoked.text
    assert client.get(f"/s/{token}").status_code == 410
    # Viewers may not manage links.
    viewer_client = TestClient(client.app)
    log_in(viewer_client, make_account(Role.viewer))
    assert viewer_client.get(f"/assets/{asset_id}/shares").status_code == 403


def public_paths(token: str) -> list[str]:
    """Every public address of a link: its page, its files and its embed page."""
    files = ("", "/file", "/poster", "/download", "/captions/nl.vtt")
    return [f"/s/{token}{f}" for f in files] + [f"/embed/{token}"]


def test_every_public_path_stops_alike(
    client: TestClient, rt: Runtime, creative: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    asset_id = photo(rt, creative)
    until = (clock.now() + timedelta(hours=1)).replace(microsecond=0)
    plain, protected, expiring = (
        share(client, creative, asset_id),
        share(client, creative, asset_id, password="geheim genoeg"),
        share(client, creative, asset_id, expires_at=until.isoformat()),
    )
    for created in (plain, protected):
        revoked = client.delete(f"/api/v1/shares/{created['id']}", headers=creative.headers)
        assert revoked.status_code == 200
    later = until + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later.astimezone(UTC))
    cases = [
        (plain["token"], 410, "heeft hem ingetrokken"),
        (protected["token"], 410, "heeft hem ingetrokken"),  # revoked before any password
        (expiring["token"], 410, "Deze link is verlopen op"),
        ("x" * 32, 404, "Op dit adres is niets gedeeld"),
    ]
    for token, status, text in cases:
        for path in public_paths(token):
            response = client.get(path)
            assert response.status_code == status, path
            assert text in response.text, path
            assert response.headers["cache-control"] == "no-store", path
            assert "set-cookie" not in response.headers, path


def test_a_protected_link_asks_for_its_password_before_telling_why_it_is_blocked(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = photo(rt, creative)
    set_alt_text(client, creative, asset_id, "Kinderen dansen op het gras")
    token = share(client, creative, asset_id, channel="website", password="geheim genoeg")["token"]
    # The website needs alt text, which the asset has lost since: the link is not cleared.
    set_alt_text(client, creative, asset_id, "")
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and 'type="password"' in page.text
    assert "Alternatieve tekst ontbreekt" not in page.text
    for path in public_paths(token)[1:-1]:
        assert client.get(path).status_code == 403, path
    embed = client.get(f"/embed/{token}")
    assert embed.status_code == 200 and f'href="/s/{token}"' in embed.text
    assert "Alternatieve tekst ontbreekt" not in embed.text

    right = client.post(f"/s/{token}", data={"password": "geheim genoeg"})
    assert right.status_code == 409 and "Alternatieve tekst ontbreekt" in right.text
    assert client.get(f"/s/{token}/file").status_code == 409
    # The password opens the share page, never the embed (it reads no cookie).
    client.cookies.set("beeldbank_share", client.cookies["beeldbank_share"], path="/embed/")
    assert client.get(f"/embed/{token}").status_code == 200


def test_links_can_be_made_for_the_channels_cleared_now(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    """The channels a new link may name come from the verdicts as they are now, in
    DAM_CHANNELS order; a withdrawn consent takes its channels away at once."""
    asset_id = photo(rt, creative)
    person_id = with_person(client, rt, officer, asset_id)
    consent_id = give_consent(client, officer, person_id, ["print", "internal"])
    settings = rt.settings
    with rt.session() as session:
        channels = shares.share_channels(session, asset_id, settings=settings)
    assert channels.cleared == ("internal", "print")
    assert channels.not_cleared == tuple(
        c for c in settings.channel_list if c not in ("internal", "print")
    )
    withdraw(client, officer, consent_id)
    with rt.session() as session:
        channels = shares.share_channels(session, asset_id, settings=settings)
        assert channels.cleared == ()
        assert channels.not_cleared == settings.channel_list
        with pytest.raises(NotFound):
            shares.share_channels(session, "no-such-asset", settings=settings)


def test_ui_offers_and_makes_links_only_for_cleared_channels(
    client: TestClient, rt: Runtime, creative: Account, make_account: Callable[[Role], Account]
) -> None:
    """A link for a channel the asset is not cleared for would only show visitors a
    refusal: the panel does not offer it and a crafted post is refused with the reason."""
    asset_id = upload(client, creative, seed=23)
    officer = make_account(Role.privacy_officer)
    person_id = with_person(client, rt, officer, asset_id)
    give_consent(client, officer, person_id, ["internal"])
    csrf = log_in(client, creative)
    page = client.get(f"/assets/{asset_id}/shares").text
    offered = re.findall(r'<option value="(\w+)">', page.split('id="share-channel"')[1])
    assert offered == ["internal"]
    assert "Niet mogelijk voor intranet, website" in page
    refused = client.post(
        f"/assets/{asset_id}/shares", data={"channel": "website", "csrf_token": csrf}
    )
    assert "Er is geen link gemaakt: dit beeld is niet vrijgegeven voor website." in refused.text
    # The API refuses it the same way, with the verdict's reasons.
    answer = client.post(
        f"/api/v1/assets/{asset_id}/shares", headers=creative.headers, json={"channel": "website"}
    )
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "not_cleared"
    assert "alt_text_missing" in {reason["code"] for reason in error["reasons"]}
    with rt.session() as session:
        assert session.exec(select(ShareLink).where(ShareLink.asset_id == asset_id)).all() == []
