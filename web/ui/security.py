"""Security headers on every response: a strict Content-Security-Policy and friends.

A pure ASGI middleware (not BaseHTTPMiddleware), so streamed uploads and downloads pass
through untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Everything from Beeldbank itself: no inline scripts or styles, no other origins.
# img-src allows blob: (previews of files chosen for upload, made in the browser) and
# data: (nothing else: placeholders are drawn on a canvas by our own script).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Embed pages (share links, web/ui/routes/public.py) exist to be shown in an iframe on
# other sites: the same policy, except that any site may frame them.
EMBED_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
FRAMEABLE_PREFIXES = ("/embed/",)
# FastAPI's interactive API docs load their own scripts; they are not part of the UI.
EXEMPT_PREFIXES = ("/docs",)

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def origin(url: str) -> str:
    """scheme://host[:port] of `url`, as a CSP source."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, form_origins: Sequence[str] = ()) -> None:
        self.app = app
        # Origins a form's answer may redirect to (single sign-on's logout), besides 'self'.
        extra = "".join(f" {item}" for item in form_origins)
        self.csp = CSP.replace("form-action 'self'", f"form-action 'self'{extra}")
        self.embed_csp = EMBED_CSP.replace("form-action 'self'", f"form-action 'self'{extra}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = scope["path"].startswith(EXEMPT_PREFIXES)
        frameable = scope["path"].startswith(FRAMEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not exempt:
                    headers.setdefault(
                        "content-security-policy", self.embed_csp if frameable else self.csp
                    )
                for name, value in HEADERS.items():
                    if not (frameable and name == "x-frame-options"):
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
