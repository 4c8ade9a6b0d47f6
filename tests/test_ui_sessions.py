"""Sessions: signed HttpOnly SameSite cookies, CSRF on forms and cookie API calls, login
rate limiting, messages for wrong credentials, redirects back, strict CSP."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dam import accounts, clock
from dam.models import Role, User
from dam.runtime import Runtime
from tests.conftest import Account
from tests.ui_client import PASSWORD, csrf_of, log_in, upload
from web.ui import ratelimit

pytestmark = pytest.mark.one_database


def test_login_sets_a_signed_httponly_samesite_cookie(
    client: TestClient, creative: Account
) -> None:
    token = csrf_of(client.get("/login"))
    response = client.post(
        "/login",
        data={"email": creative.user.email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("beeldbank_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert client.get("/", follow_redirects=False).status_code == 200
    # A cookie changed by the client is not accepted.
    value = client.cookies["beeldbank_session"]
    client.cookies.set("beeldbank_session", value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB"))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_credentials_get_one_clear_message(client: TestClient, creative: Account) -> None:
    token = csrf_of(client.get("/login"))
    for email, password in [(creative.user.email, "wrong password"), ("nobody@x.be", PASSWORD)]:
        response = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 401
        assert "Het e-mailadres of wachtwoord klopt niet." in response.text
        assert 'aria-invalid="true"' in response.text


def test_deactivated_users_cannot_log_in(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    with rt.session() as session:
        user = session.get(User, creative.user.id)
        assert user is not None
        user.is_active = False
        session.add(user)
        session.commit()
    token = csrf_of(client.get("/login"))
    response = client.post(
        "/login", data={"email": creative.user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 401


def test_login_needs_the_csrf_token(client: TestClient, creative: Account) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": creative.user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "Dit formulier is verlopen" in response.text


def test_redirects_back_to_where_the_user_was(client: TestClient, creative: Account) -> None:
    response = client.get("/collections?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fcollections%3Fx%3D1"
    token = csrf_of(client.get(response.headers["location"]))
    response = client.post(
        "/login",
        data={
            "email": creative.user.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/collections?x=1",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/collections?x=1"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_no_open_redirects(client: TestClient, creative: Account, target: str) -> None:
    token = csrf_of(client.get("/login"))
    response = client.post(
        "/login",
        data={
            "email": creative.user.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_login_is_rate_limited(
    client: TestClient, creative: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = clock.now()
    moment = [start]
    monkeypatch.setattr(ratelimit, "now", lambda: moment[0])
    token = csrf_of(client.get("/login"))
    data = {"email": creative.user.email, "password": "wrong", "csrf_token": token}
    for _ in range(ratelimit.PER_ACCOUNT):
        assert client.post("/login", data=data).status_code == 401
    # Now even the right password waits: guessing stops here.
    right = {**data, "password": PASSWORD}
    blocked = client.post("/login", data=right)
    assert blocked.status_code == 429
    assert "Te veel mislukte pogingen" in blocked.text
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    moment[0] = start + ratelimit.WINDOW + timedelta(seconds=1)
    assert client.post("/login", data=right, follow_redirects=False).status_code == 303


def test_forms_without_the_csrf_token_are_refused(client: TestClient, creative: Account) -> None:
    log_in(client, creative)
    response = client.post("/collections", data={"title": "Zonder token"})
    assert response.status_code == 403
    response = client.post("/collections", data={"title": "Met token", "csrf_token": "forged"})
    assert response.status_code == 403


def test_the_api_accepts_the_session_cookie_with_csrf_for_changes(
    client: TestClient, creative: Account
) -> None:
    asset_id = upload(client, creative, seed=11)
    token = log_in(client, creative)
    assert client.get(f"/api/v1/assets/{asset_id}").status_code == 200
    refused = client.patch(f"/api/v1/assets/{asset_id}", json={"title": "x"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    allowed = client.patch(
        f"/api/v1/assets/{asset_id}", json={"title": "Met cookie"}, headers={"X-CSRF-Token": token}
    )
    assert allowed.status_code == 200
    assert allowed.json()["title"] == "Met cookie"
    # Bearer tokens are never sent by a browser on its own: no CSRF token needed.
    client.cookies.clear()
    bearer = client.patch(
        f"/api/v1/assets/{asset_id}", json={"title": "Met token"}, headers=creative.headers
    )
    assert bearer.status_code == 200


def test_logout_and_deactivation_end_the_session(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
) -> None:
    admin, other = make_account(Role.admin), make_account(Role.creative)
    token = log_in(client, other)
    response = client.post("/logout", data={"csrf_token": token})
    assert "Je bent afgemeld." in response.text
    assert client.get("/api/v1/assets").status_code == 401
    log_in(client, other)
    assert client.get("/api/v1/assets").status_code == 200
    with rt.session() as session:
        actor = session.get(User, admin.user.id)
        assert actor is not None
        accounts.set_active(session, user_id=other.user.id, active=False, actor=actor)
    assert client.get("/api/v1/assets").status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303


PAGES = ["/", "/upload", "/collections", "/admin/users", "/admin/tokens", "/admin/settings"]


def test_pages_obey_a_strict_content_security_policy(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    admin = make_account(Role.admin)
    asset_id = upload(client, admin, seed=12)
    log_in(client, admin)
    for path in [*PAGES, f"/assets/{asset_id}", "/login"]:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        html = response.text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\sstyle=|\son[a-z]+=", html), path
        # Every byte from Beeldbank itself: no other origins in src or href.
        assert not re.search(r'(src|href)="(https?:)?//', html), path
