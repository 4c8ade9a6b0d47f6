"""Single sign-on against a real OpenID Provider (oidc-provider), on both databases.

The browser goes to the provider and back; here httpx plays the browser at the provider
(its login form) and TestClient at Beeldbank. The whole login in a real browser is in
tests/browser/test_sso.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam import accounts, auth, clock, doctor, sso
from dam.models import AuditEntry, OidcLogin, Role, User
from dam.oidc import OidcClient, SsoFailed
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from tests.conftest import Account
from tests.live_server import base_url, free_socket
from tests.oidc_provider import Client, IdpAccount, Provider
from tests.ui_client import csrf_of, log_in
from web.app import create_app

BASE = "http://testserver"  # TestClient's address: what the provider sends browsers back to
ROLE_MAP = "beeldbank-admins=admin,beeldbank-privacy=privacy_officer,beeldbank-editors=creative"


@pytest.fixture
def idp_client(oidc_provider: Provider) -> Client:
    return oidc_provider.register(BASE)


@pytest.fixture
def sso_settings(
    settings_factory: Callable[..., Settings],
    oidc_provider: Provider,
    idp_client: Client,
) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "public_url": BASE,
            "oidc_issuer": oidc_provider.issuer,
            "oidc_client_id": idp_client.client_id,
            "oidc_client_secret": idp_client.client_secret,
            "oidc_name": "Test-IdP",
            "oidc_scopes": "openid email profile groups",
            "oidc_role_claim": "groups",
            "oidc_role_map": ROLE_MAP,
        }
        values.update(overrides)
        return settings_factory(**values)

    return make


@pytest.fixture
def settings(sso_settings: Callable[..., Settings]) -> Settings:
    return sso_settings()


@pytest.fixture
def idp_browser(oidc_provider: Provider) -> Iterator[httpx.Client]:
    """The browser's side at the provider: its cookies (the provider's session)."""
    with httpx.Client(follow_redirects=False) as http:
        yield http


def sso_login(
    client: TestClient,
    provider: Provider,
    http: httpx.Client,
    account: IdpAccount,
    *,
    next_path: str = "/collections",
) -> httpx.Response:
    """Click "log in with ...", sign in at the provider, come back; the callback's answer."""
    start = client.get(f"/login/sso?next={next_path}", follow_redirects=False)
    assert start.status_code == 303, start.text[:300]
    back = provider.sign_in(http, start.headers["location"], account)
    assert back.startswith(f"{BASE}/login/sso/callback?"), back
    return client.get(back.removeprefix(BASE), follow_redirects=False)


def auth_user(rt: Runtime, email: str) -> User:
    with rt.session() as session:
        return auth.get_user_by_email(session, email)


def user_of(rt: Runtime, account: IdpAccount) -> User | None:
    with rt.session() as session:
        return session.exec(select(User).where(User.email == account.email)).first()


def test_the_login_page_offers_the_identity_provider(client: TestClient) -> None:
    page = client.get("/login")
    assert "Aanmelden met Test-IdP" in page.text
    assert 'id="password"' in page.text  # local login stays on by default
    english = client.get("/login", headers={"Accept-Language": "en"})
    assert "Log in with Test-IdP" in english.text


def test_authorization_request_uses_pkce_state_and_nonce(
    client: TestClient, rt: Runtime, oidc_provider: Provider
) -> None:
    response = client.get("/login/sso", follow_redirects=False)
    target = urlsplit(response.headers["location"])
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}" == oidc_provider.issuer
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256
    assert query["redirect_uri"] == f"{BASE}/login/sso/callback"
    with rt.session() as session:
        pending = session.get(OidcLogin, query["state"])
    assert pending is not None and pending.nonce == query["nonce"]
    assert pending.code_verifier not in response.headers["location"]


def test_first_login_creates_the_user_from_the_claims(
    client: TestClient, rt: Runtime, oidc_provider: Provider, idp_browser: httpx.Client
) -> None:
    account = oidc_provider.add_account(groups=["beeldbank-editors", "staff"], name="Els Wouters")
    response = sso_login(client, oidc_provider, idp_browser, account)
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == "/collections"
    user = user_of(rt, account)
    assert user is not None
    assert (user.role, user.display_name, user.oidc_subject) == (
        Role.creative,
        "Els Wouters",
        account.login,
    )
    assert user.password_hash == ""  # no password: it cannot be used to log in locally
    page = client.get("/collections")
    assert page.status_code == 200 and account.email in page.text
    with rt.unit_of_work() as session:
        auth.create_user(
            session, email="beheer@example.test", password="correct horse battery", role=Role.admin
        )
    client.cookies.clear()
    log_in(client, Account(auth_user(rt, "beheer@example.test"), ""))
    assert "Els Wouters · eenmalige aanmelding" in client.get("/admin/users").text
    with rt.session() as session:
        actions = [
            entry.action
            for entry in session.exec(
                select(AuditEntry).where(AuditEntry.subject_id == user.id).order_by(AuditEntry.seq)
            )
        ]
    assert actions == ["user.created", "user.logged_in"]


def test_the_role_is_mapped_again_at_every_login(
    client: TestClient, rt: Runtime, oidc_provider: Provider, idp_browser: httpx.Client
) -> None:
    account = oidc_provider.add_account(groups=["beeldbank-editors"])
    roles = []
    for groups in (
        ["beeldbank-editors"],
        ["beeldbank-editors", "beeldbank-admins"],  # the highest mapped role wins
        ["beeldbank-privacy"],
        ["unrelated"],  # nothing mapped: DAM_OIDC_DEFAULT_ROLE (viewer)
    ):
        oidc_provider.set_groups(account, groups)
        with httpx.Client(follow_redirects=False) as fresh_idp_session:
            assert sso_login(client, oidc_provider, fresh_idp_session, account).status_code == 303
        user = user_of(rt, account)
        assert user is not None
        roles.append(user.role)
        client.cookies.clear()
    assert roles == [Role.creative, Role.admin, Role.privacy_officer, Role.viewer]
    with rt.session() as session:
        users = session.exec(select(User).where(User.oidc_subject == account.login)).all()
    assert len(users) == 1  # one account, updated at each login


def test_without_a_default_role_an_unmapped_person_is_refused(
    sso_settings: Callable[..., Settings],
    oidc_provider: Provider,
    idp_browser: httpx.Client,
) -> None:
    runtime = build_runtime(sso_settings(oidc_default_role="none"))
    try:
        with TestClient(create_app(runtime)) as client:
            account = oidc_provider.add_account(groups=["somewhere-else"])
            response = sso_login(client, oidc_provider, idp_browser, account)
            assert response.status_code == 401
            assert "heeft je geen toegang tot Beeldbank gegeven" in response.text
            assert user_of(runtime, account) is None
    finally:
        runtime.close()


def test_an_unreachable_provider_is_told_not_hidden(
    sso_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    sock = free_socket()  # a port nobody listens on: bound, never served
    try:
        runtime = build_runtime(sso_settings(oidc_issuer=base_url(sock)))
        try:
            with TestClient(create_app(runtime)) as client:
                response = client.get("/login/sso", follow_redirects=False)
        finally:
            runtime.close()
    finally:
        sock.close()
    assert response.status_code == 502
    assert "De aanmeldingsdienst is nu niet bereikbaar" in response.text
    assert "single sign-on refused: provider_unreachable" in caplog.text


def test_a_local_account_with_the_same_address_is_linked(
    client: TestClient,
    rt: Runtime,
    oidc_provider: Provider,
    idp_browser: httpx.Client,
) -> None:
    account = oidc_provider.add_account(groups=["beeldbank-editors"])
    with rt.unit_of_work() as session:
        auth.create_user(
            session, email=account.email, password="correct horse battery", role=Role.viewer
        )
    assert sso_login(client, oidc_provider, idp_browser, account).status_code == 303
    user = user_of(rt, account)
    assert user is not None and user.oidc_subject == account.login and user.role == Role.creative


def test_a_disabled_account_is_refused(
    client: TestClient,
    rt: Runtime,
    oidc_provider: Provider,
    idp_browser: httpx.Client,
    make_account: Callable[[Role], Account],
) -> None:
    account = oidc_provider.add_account(groups=["beeldbank-editors"])
    assert sso_login(client, oidc_provider, idp_browser, account).status_code == 303
    user = user_of(rt, account)
    assert user is not None
    admin = make_account(Role.admin)
    with rt.session() as session:
        accounts.set_active(session, user_id=user.id, active=False, actor=admin.user)
    client.cookies.clear()
    response = sso_login(client, oidc_provider, idp_browser, account)
    assert response.status_code == 401
    assert "Je account in Beeldbank staat uit" in response.text
    assert client.get("/collections", follow_redirects=False).status_code == 303  # to /login
    with rt.session() as session:
        refused = session.exec(
            select(AuditEntry).where(
                AuditEntry.subject_id == user.id, AuditEntry.action == "user.login_refused"
            )
        ).one()
    assert refused.details == {"method": "sso", "reason": "account_disabled"}


def test_an_expired_id_token_is_refused(
    client: TestClient,
    rt: Runtime,
    oidc_provider: Provider,
    idp_browser: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account = oidc_provider.add_account(groups=["beeldbank-editors"])
    start = client.get("/login/sso", follow_redirects=False)
    back = oidc_provider.sign_in(idp_browser, start.headers["location"], account)
    # The provider's ID tokens live an hour; by our clock the answer arrives two hours on.
    later = clock.now() + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    monkeypatch.setattr(sso, "PENDING_TTL", timedelta(hours=3))  # only the token is stale
    response = client.get(back.removeprefix(BASE), follow_redirects=False)
    assert response.status_code == 401
    assert "Aanmelden is niet gelukt" in response.text
    assert "single sign-on refused: token_expired" in caplog.text
    assert user_of(rt, account) is None


def test_an_id_token_for_another_client_is_refused(
    rt: Runtime,
    settings: Settings,
    oidc_provider: Provider,
    idp_browser: httpx.Client,
) -> None:
    other = oidc_provider.register(BASE)  # a second application at the same provider
    theirs = OidcClient(
        settings.model_copy(
            update={"oidc_client_id": other.client_id, "oidc_client_secret": other.client_secret}
        )
    )
    ours = OidcClient(settings)
    account = oidc_provider.add_account(groups=["beeldbank-admins"])
    request = theirs.start()
    back = oidc_provider.sign_in(idp_browser, request.url, account)
    code = parse_qs(urlsplit(back).query)["code"][0]
    id_token = theirs.redeem(code=code, code_verifier=request.code_verifier)["id_token"]
    assert theirs.validate_id_token(id_token, nonce=request.nonce)["sub"] == account.login
    with pytest.raises(SsoFailed) as caught:
        ours.validate_id_token(id_token, nonce=request.nonce)
    assert caught.value.reason == "token_invalid" and "aud" in caught.value.message


def test_a_replayed_nonce_or_callback_is_refused(
    client: TestClient,
    rt: Runtime,
    settings: Settings,
    oidc_provider: Provider,
    idp_browser: httpx.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account = oidc_provider.add_account(groups=["beeldbank-editors"])
    oidc = OidcClient(settings)
    # An ID token of one sign-on does not finish another: the nonce differs.
    first, second = oidc.start(), oidc.start()
    back = oidc_provider.sign_in(idp_browser, first.url, account)
    code = parse_qs(urlsplit(back).query)["code"][0]
    id_token = oidc.redeem(code=code, code_verifier=first.code_verifier)["id_token"]
    with pytest.raises(SsoFailed) as caught:
        oidc.validate_id_token(id_token, nonce=second.nonce)
    assert caught.value.reason == "nonce_mismatch"

    # The browser's own callback, sent again with the cookie from before: its sign-on
    # was used up the first time (the state's row is gone), so nothing logs in.
    start = client.get("/login/sso", follow_redirects=False)
    cookies_before = dict(client.cookies)
    back = oidc_provider.sign_in(idp_browser, start.headers["location"], account)
    assert client.get(back.removeprefix(BASE), follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.update(cookies_before)
    replay = client.get(back.removeprefix(BASE), follow_redirects=False)
    assert replay.status_code == 401
    assert "single sign-on refused: state_unknown" in caplog.text
    assert client.get("/collections", follow_redirects=False).status_code == 303


def test_a_callback_from_another_browser_is_refused(
    client: TestClient,
    oidc_provider: Provider,
    idp_browser: httpx.Client,
) -> None:
    account = oidc_provider.add_account(groups=["beeldbank-editors"])
    start = client.get("/login/sso", follow_redirects=False)
    back = oidc_provider.sign_in(idp_browser, start.headers["location"], account)
    client.cookies.clear()  # another browser: it never started this sign-on
    assert client.get(back.removeprefix(BASE), follow_redirects=False).status_code == 401


def test_logout_ends_the_session_at_the_provider_too(
    client: TestClient,
    oidc_provider: Provider,
    idp_browser: httpx.Client,
    idp_client: Client,
) -> None:
    account = oidc_provider.add_account(groups=["beeldbank-editors"])
    assert sso_login(client, oidc_provider, idp_browser, account).status_code == 303
    page = client.get("/collections")
    assert f"form-action 'self' {oidc_provider.issuer}" in page.headers["content-security-policy"]
    response = client.post("/logout", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert response.status_code == 303
    target = response.headers["location"]
    assert target.startswith(f"{oidc_provider.issuer}/session/end?")
    query = parse_qs(urlsplit(target).query)
    assert query["client_id"] == [idp_client.client_id]
    assert query["post_logout_redirect_uri"] == [f"{BASE}/login"]
    # The provider asks to confirm, then sends the browser back to our login page.
    confirm = idp_browser.get(target)
    assert confirm.status_code == 200
    form = confirm.text
    xsrf = form.split('name="xsrf" value="')[1].split('"')[0]
    done = idp_browser.post(
        f"{oidc_provider.issuer}/session/end/confirm", data={"xsrf": xsrf, "logout": "yes"}
    )
    assert done.status_code in (302, 303)
    assert done.headers["location"] == f"{BASE}/login"
    assert client.get("/collections", follow_redirects=False).status_code == 303
    # Signing on again needs the password at the provider again.
    again = client.get("/login/sso", follow_redirects=False)
    landing = idp_browser.get(again.headers["location"], follow_redirects=True)
    assert 'name="password"' in landing.text


def test_a_password_logout_stays_local(client: TestClient, creative: Account) -> None:
    token = log_in(client, creative, next_path="/collections")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/login"


def test_local_login_off_leaves_break_glass_admins_and_api_tokens(
    sso_settings: Callable[..., Settings],
    make_account: Callable[[Role], Account],
    rt: Runtime,
) -> None:
    creative, admin = make_account(Role.creative), make_account(Role.admin)
    with rt.session() as session:
        accounts.set_break_glass(session, email=admin.user.email, on=True)
    runtime = build_runtime(sso_settings(local_login=False))
    try:
        with TestClient(create_app(runtime)) as client:
            page = client.get("/login")
            assert "Aanmelden met Test-IdP" in page.text
            assert "Noodtoegang voor beheerders" in page.text
            for who, expected in ((creative, 401), (admin, 303)):
                response = client.post(
                    "/login",
                    data={
                        "email": who.user.email,
                        "password": "correct horse battery",
                        "csrf_token": csrf_of(client.get("/login")),
                    },
                    follow_redirects=False,
                )
                assert response.status_code == expected, who.user.role
            # The break-glass admin is logged in now: the users page says how people log in.
            users_page = client.get("/admin/users").text
            assert "Wachtwoorden staan uit" in users_page
            row = " ".join(users_page.split())
            assert f'{admin.user.email} <span class="hint">noodtoegang</span>' in row
            # API tokens do not log in through a form: they keep working.
            listed = client.get("/api/v1/search", headers=creative.headers)
            assert listed.status_code == 200
    finally:
        runtime.close()


def test_the_settings_page_hides_the_client_secret(
    client: TestClient, make_account: Callable[[Role], Account], idp_client: Client
) -> None:
    log_in(client, make_account(Role.admin))
    html = client.get("/admin/settings").text
    assert "DAM_OIDC_CLIENT_SECRET" in html and idp_client.client_id in html
    assert idp_client.client_secret not in html


def test_doctor_reports_the_identity_provider(rt: Runtime, oidc_provider: Provider) -> None:
    findings = {finding.name: finding for finding in doctor.run_checks(rt)}
    found = findings["single sign-on"]
    assert found.state == "ok", found.detail
    assert found.detail == f"{oidc_provider.issuer}: 1 signing key(s), with RP-initiated logout"
