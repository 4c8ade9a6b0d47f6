"""The browser session: a signed HttpOnly SameSite cookie (Starlette's SessionMiddleware).

The cookie holds the user's id, a CSRF token and, before login, the chosen language. It
is signed with DAM_SECRET_KEY, so it cannot be forged; the user is re-read on every
request, so deactivating someone ends their sessions at once. The API accepts it too
(the UI's scripts call the API with it), so it lives beside both, not in the UI.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.requests import HTTPConnection

from dam.errors import Forbidden
from dam.settings import Settings

COOKIE_NAME = "beeldbank_session"
MAX_AGE_S = 14 * 24 * 3600
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_middleware_options(settings: Settings) -> dict[str, Any]:
    return {
        "secret_key": settings.secret_key,
        "session_cookie": COOKIE_NAME,
        "max_age": MAX_AGE_S,
        # Lax, not Strict: a link to an asset in an e-mail should open it logged in.
        # Every state-changing request needs the CSRF token as well.
        "same_site": "lax",
        "https_only": settings.environment == "production",
    }


def _session(conn: HTTPConnection) -> dict[str, Any] | None:
    # API-only apps (and requests outside the middleware) have no session at all.
    return conn.session if "session" in conn.scope else None


def user_id(conn: HTTPConnection) -> str | None:
    session = _session(conn)
    value = session.get("uid") if session is not None else None
    return value if isinstance(value, str) else None


def log_in(conn: HTTPConnection, uid: str) -> None:
    """Start a fresh session for `uid`: a new CSRF token, nothing kept from before login."""
    session = conn.session
    locale = session.get("locale")
    session.clear()
    session["uid"] = uid
    session["csrf"] = secrets.token_urlsafe(32)
    if locale:
        session["locale"] = locale


def log_out(conn: HTTPConnection) -> None:
    locale = conn.session.get("locale")
    conn.session.clear()
    if locale:
        conn.session["locale"] = locale


def csrf_token(conn: HTTPConnection) -> str:
    """This session's CSRF token, created on first use (the login form needs one too)."""
    session = conn.session
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(conn: HTTPConnection, sent: str | None) -> bool:
    session = _session(conn)
    expected = session.get("csrf") if session is not None else None
    if not isinstance(expected, str) or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def session_locale(conn: HTTPConnection) -> str | None:
    session = _session(conn)
    value = session.get("locale") if session is not None else None
    return value if isinstance(value, str) else None


def remember_locale(conn: HTTPConnection, locale: str) -> None:
    conn.session["locale"] = locale


class CsrfFailed(Forbidden):
    code = "csrf_failed"
