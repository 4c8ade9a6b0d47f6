"""Helpers for UI tests over TestClient: log in through the form, read the CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Account
from tests.media import jpeg

PASSWORD = "correct horse battery"  # what tests.conftest.make_account sets
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response: Response) -> str:
    found = CSRF.search(response.text)
    assert found, "the page has no form with a CSRF token"
    return found[1]


def log_in(client: TestClient, account: Account, *, next_path: str = "/") -> str:
    """Log in through the login form; return the session's CSRF token."""
    token = csrf_of(client.get("/login"))
    response = client.post(
        "/login",
        data={
            "email": account.user.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": next_path,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    return csrf_of(client.get("/upload" if next_path == "/upload" else "/collections"))


def upload(client: TestClient, account: Account, *, seed: int, **fields: str) -> str:
    """A small photo through the API; returns the asset id."""
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (f"foto-{seed}.jpg", jpeg(96, 72, seed=seed), "image/jpeg")},
        data=fields,
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])
