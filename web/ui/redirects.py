"""Redirects after a form: only ever to a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.responses import RedirectResponse


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a local path; otherwise `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target


def see_other(target: str) -> RedirectResponse:
    """303: the browser follows with a GET, so reloading does not post the form again."""
    return RedirectResponse(target, status_code=303)
