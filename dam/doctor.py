"""`dam doctor`: what this machine can do. Packages add checks for their own parts to the
wiring (`Wiring.add_doctor_check`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from alembic.runtime.migration import MigrationContext

from dam.oidc import OidcClient, SsoFailed
from dam.runtime import Runtime


@dataclass(frozen=True)
class Finding:
    name: str
    state: Literal["ok", "missing", "error"]
    detail: str


def run_checks(rt: Runtime) -> list[Finding]:
    findings: list[Finding] = []
    for check in [_core, *rt.wiring.doctor_checks]:
        try:
            findings.extend(check(rt))
        except Exception as exc:
            findings.append(Finding(getattr(check, "__name__", "check"), "error", str(exc)[:200]))
    return findings


def _core(rt: Runtime) -> Iterable[Finding]:
    url = rt.engine.url
    try:
        with rt.engine.connect() as conn:
            # Feature branches of the schema land independently: one head per branch.
            heads = MigrationContext.configure(conn).get_current_heads()
        revision = ", ".join(sorted(heads))
        yield Finding(
            "database",
            "ok",
            f"{url.get_backend_name()} {url.database or ''}, "
            f"schema revision {revision or 'none (run dam migrate)'}",
        )
    except Exception as exc:
        yield Finding("database", "error", f"{url.get_backend_name()}: {exc}"[:200])
    try:
        waiting, oldest = rt.changes.lag()
        since = f", the oldest since {oldest:%Y-%m-%d %H:%M:%S} UTC" if oldest else ""
        yield Finding("change feed", "ok", f"{waiting} change(s) waiting{since}")
    except Exception as exc:
        yield Finding("change feed", "error", str(exc)[:200])
    kind = type(rt.queue.huey).__name__
    try:
        rt.queue.ping()
        yield Finding("queue", "ok", f"{kind}, {rt.queue.pending_count()} pending")
    except Exception as exc:
        yield Finding("queue", "error", f"{kind}: {exc}"[:200])
    if rt.settings.sso_enabled:
        yield from _single_sign_on(rt)


def _single_sign_on(rt: Runtime) -> Iterable[Finding]:
    """Whether the identity provider answers discovery and publishes its keys."""
    client = OidcClient(rt.settings)
    try:
        meta = client.metadata()
        keys = client.key_count()
    except SsoFailed as exc:
        yield Finding("single sign-on", "error", exc.message[:200])
        return
    logout = "with" if meta.end_session_endpoint else "without"
    yield Finding(
        "single sign-on",
        "ok",
        f"{meta.issuer}: {keys} signing key(s), {logout} RP-initiated logout",
    )
