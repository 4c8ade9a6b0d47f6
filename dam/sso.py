"""Single sign-on's rules: sign-ons under way, who a set of claims is, and their role.

The protocol itself is in `dam/oidc.py`; this module decides what the claims mean. The
role comes from a configured claim at every login (DAM_OIDC_ROLE_CLAIM, DAM_OIDC_ROLE_MAP,
DAM_OIDC_DEFAULT_ROLE), so a change at the identity provider reaches Beeldbank the next
time the person signs in; a role given by hand in Beeldbank lasts until then.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from dam import audit
from dam.clock import now
from dam.models import OidcLogin, Role, User
from dam.oidc import AuthRequest, SsoFailed
from dam.settings import Settings

# A person who takes longer than this at the identity provider starts again.
PENDING_TTL = timedelta(minutes=15)


# -- sign-ons under way -----------------------------------------------------------------


def remember(session: Session, *, request: AuthRequest, next_url: str) -> None:
    """Keep what the callback of `request` must match (and drop stale sign-ons)."""
    session.exec(delete(OidcLogin).where(col(OidcLogin.created_at) < now() - PENDING_TTL))
    session.add(
        OidcLogin(
            state=request.state,
            nonce=request.nonce,
            code_verifier=request.code_verifier,
            next_url=next_url,
        )
    )
    session.commit()


def take(session: Session, *, state: str) -> OidcLogin:
    """The sign-on `state` belongs to, removed so that it is used once; else SsoFailed."""
    # The DELETE decides: of two callbacks racing with one state, one deletes the row.
    found = session.get(OidcLogin, state)
    if found is not None:
        pending = OidcLogin(**found.model_dump())
        deleted = session.exec(delete(OidcLogin).where(col(OidcLogin.state) == state))
        session.commit()
        if deleted.rowcount == 1 and now() - pending.created_at <= PENDING_TTL:
            return pending
    raise SsoFailed("state_unknown", "This sign-on is unknown, was used already or took too long.")


# -- roles ------------------------------------------------------------------------------


def claim_values(claims: Mapping[str, Any], path: str) -> list[str]:
    """The strings at a dotted `path` in `claims` (a string, or a list of them)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return []
        value = value[part]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def role_for(values: list[str], *, table: Mapping[str, str], default: str) -> Role | None:
    """The highest role any of `values` maps to; else `default` (None for "none")."""
    mapped = [Role(table[value]) for value in values if value in table]
    if mapped:
        return max(mapped, key=lambda role: role.rank)
    return None if default == "none" else Role(default)


# -- the person behind the claims -------------------------------------------------------


def sign_in(session: Session, *, claims: Mapping[str, Any], settings: Settings) -> User:
    """The active user for these validated claims: created, linked or updated; else SsoFailed."""
    subject = str(claims["sub"])
    email = claims.get("email")
    email = email.strip().lower() if isinstance(email, str) and "@" in email else None
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    role = role_for(
        claim_values(claims, settings.oidc_role_claim),
        table=settings.oidc_role_table,
        default=settings.oidc_default_role,
    )
    user = session.exec(select(User).where(User.oidc_subject == subject)).first()
    if user is None and email is not None and claims.get("email_verified") is not False:
        # A local account with the same (verified) address becomes this person's.
        user = session.exec(select(User).where(User.email == email)).first()
        if user is not None and user.oidc_subject is not None:
            user = None  # someone else's sign-on has it; see the conflict below
    if user is not None and not user.is_active:
        _refuse(session, user, SsoFailed("account_disabled", "This account is switched off."))
    if role is None:
        if user is not None:
            _refuse(session, user, SsoFailed("no_role", "No role is given to this person."))
        raise SsoFailed("no_role", "No role is given to this person.")
    if user is None:
        if email is None:
            raise SsoFailed("no_email", "The identity provider sent no e-mail address.")
        if session.exec(select(User).where(User.email == email)).first() is not None:
            raise SsoFailed("email_taken", "Another account signs in with this e-mail address.")
        user = User(email=email, password_hash="", role=role)
        user.oidc_subject, user.display_name = subject, name
        session.add(user)
        session.flush()
        audit.record(
            session,
            action="user.created",
            actor_id=None,
            subject_type="user",
            subject_id=user.id,
            details={"role": role.value, "source": "sso"},
        )
    else:
        _update(session, user, subject=subject, email=email, name=name, role=role)
    audit.record(
        session,
        action="user.logged_in",
        actor_id=user.id,
        subject_type="user",
        subject_id=user.id,
        details={"method": "sso"},
    )
    session.commit()
    return user


def _update(
    session: Session, user: User, *, subject: str, email: str | None, name: str | None, role: Role
) -> None:
    user.oidc_subject = subject
    if name is not None:
        user.display_name = name
    if email is not None and email != user.email:
        taken = session.exec(select(User).where(User.email == email, User.id != user.id)).first()
        if taken is None:
            user.email = email
    if user.role != role:
        audit.record(
            session,
            action="user.role_changed",
            actor_id=None,
            subject_type="user",
            subject_id=user.id,
            details={"from": Role(user.role).value, "to": role.value, "source": "sso"},
        )
        user.role = role
    session.add(user)


def _refuse(session: Session, user: User, refusal: SsoFailed) -> None:
    """Record that `user` was refused, then raise `refusal`."""
    audit.record(
        session,
        action="user.login_refused",
        actor_id=None,
        subject_type="user",
        subject_id=user.id,
        details={"method": "sso", "reason": refusal.reason},
    )
    session.commit()
    raise refusal
