"""Whose X-Forwarded-For is believed: only the reverse proxies named in DAM_TRUSTED_PROXIES.

The client address keys the login and share-password rate limits. Believing the header
from anyone (or, as uvicorn does by default, from 127.0.0.1, where a local proxy or any
local process connects from) would let a client rotate it for unlimited guesses. So the
app resolves the client itself, with uvicorn's own middleware configured from the setting,
and `dam serve` switches uvicorn's built-in handling off (`server_options`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dam.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Resolve the client from X-Forwarded-For/-Proto when a trusted proxy connects."""
    trusted = settings.trusted_proxy_list
    if trusted:
        # Added after everything else: outermost, so every layer sees the resolved client.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)


def server_options() -> dict[str, Any]:
    """uvicorn options: the app resolves forwarded headers itself (see `install`)."""
    return {"proxy_headers": False, "forwarded_allow_ips": None}


def client_address(request: Request) -> str:
    """The resolved client address, the key of per-client rate limits."""
    return request.client.host if request.client else "unknown"
