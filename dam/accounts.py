"""People's accounts: logging in, and what an administrator changes about users and tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from dam import audit
from dam.auth import check_password_length, hash_password, verify_password
from dam.clock import now
from dam.errors import N_, Conflict, InvalidInput, NotFound, Unauthorized
from dam.models import ApiToken, LicenceStatus, Role, User

LOCALES = ("nl", "en")

# Verifying against this when the e-mail is unknown takes as long as a real check, so the
# answer time does not tell an attacker which addresses have an account.
_DUMMY_HASH = hash_password("not-a-password-of-anyone")


class WrongCredentials(Unauthorized):
    code = "wrong_credentials"


def authenticate(session: Session, *, email: str, password: str, local_login: bool = True) -> User:
    """The active user with this e-mail and password; one message for every wrong guess.

    With local login switched off (DAM_LOCAL_LOGIN=false) only break-glass administrators
    get in this way; for anyone else the answer is the same as for a wrong password, so it
    does not tell whether the password was right.
    """
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    # Accounts made by single sign-on have no password hash: the dummy check keeps the time.
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    ok = verify_password(stored, password) and user is not None and bool(user.password_hash)
    allowed = local_login or (user is not None and user.break_glass and user.role == Role.admin)
    if user is None or not ok or not user.is_active or not allowed:
        raise WrongCredentials("The e-mail address or password is not right.")
    audit.record(
        session,
        action="user.logged_in",
        actor_id=user.id,
        subject_type="user",
        subject_id=user.id,
        details={"method": "password" if local_login else "break_glass"},
    )
    session.commit()
    return user


def record_logout(session: Session, *, user: User) -> None:
    audit.record(
        session, action="user.logged_out", actor_id=user.id, subject_type="user", subject_id=user.id
    )
    session.commit()


def active_user(session: Session, user_id: str) -> User | None:
    """The user a session belongs to, or None once deactivated or removed."""
    user = session.get(User, user_id)
    return user if user is not None and user.is_active else None


def set_locale(session: Session, *, user: User, locale: str) -> None:
    """Remember the user's interface language."""
    if locale not in LOCALES:
        raise InvalidInput(N_("Unknown language %(language)r."), params={"language": locale})
    if user.locale != locale:
        user.locale = locale
        session.add(user)
        session.commit()


def set_licence_default(session: Session, *, user: User, status: str, credit: str) -> User:
    """The licence status and credit `user`'s uploads start with ("": unknown)."""
    if status and status not in {s.value for s in LicenceStatus}:
        raise InvalidInput("Choose own work, licensed or unknown.")
    user.default_licence_status = status or None
    user.default_credit = credit.strip()[:500]
    session.add(user)
    audit.record(
        session,
        action="user.licence_default_changed",
        actor_id=user.id,
        subject_type="user",
        subject_id=user.id,
        details={"status": status or None},
    )
    session.commit()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(func.lower(User.email))))


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no user with this id.")
    return user


def _active_admins(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.admin, User.is_active)
    return int(session.exec(query).one())


def change_role(session: Session, *, user_id: str, role: Role, actor: User) -> User:
    user = get_user(session, user_id)
    if user.role == role:
        return user
    if user.role == Role.admin and user.is_active and _active_admins(session) <= 1:
        raise Conflict("This is the last administrator; make someone else admin first.")
    before = user.role
    user.role = role
    session.add(user)
    audit.record(
        session,
        action="user.role_changed",
        actor_id=actor.id,
        subject_type="user",
        subject_id=user.id,
        details={"from": Role(before).value, "to": role.value},
    )
    session.commit()
    return user


def set_active(session: Session, *, user_id: str, active: bool, actor: User) -> User:
    """Deactivate (no login, tokens stop working) or reactivate a user."""
    user = get_user(session, user_id)
    if user.is_active == active:
        return user
    if not active and user.role == Role.admin and _active_admins(session) <= 1:
        raise Conflict("This is the last administrator; make someone else admin first.")
    user.is_active = active
    session.add(user)
    audit.record(
        session,
        action="user.reactivated" if active else "user.deactivated",
        actor_id=actor.id,
        subject_type="user",
        subject_id=user.id,
    )
    session.commit()
    return user


def set_break_glass(session: Session, *, email: str, on: bool, password: str | None = None) -> User:
    """Let an administrator log in with a password while local login is off (or stop it)."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound("No user with this e-mail address.")
    if on and user.role != Role.admin:
        raise InvalidInput("Only an administrator can be a break-glass account.")
    if on and password is not None:
        check_password_length(password)
        user.password_hash = hash_password(password)
    if on and not user.password_hash:
        raise InvalidInput("This account has no password yet: give it one.")
    user.break_glass = on
    session.add(user)
    audit.record(
        session,
        action="user.break_glass_on" if on else "user.break_glass_off",
        actor_id=None,
        subject_type="user",
        subject_id=user.id,
    )
    session.commit()
    return user


@dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    email: str


def list_tokens(session: Session) -> list[TokenRow]:
    """Every API token (never the secret itself), newest first."""
    rows = session.exec(
        select(ApiToken, User.email)
        .join(User, col(User.id) == ApiToken.user_id)
        .order_by(col(ApiToken.created_at).desc())
    )
    return [TokenRow(token, email) for token, email in rows]


def revoke_token(session: Session, *, token_id: str, actor: User) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("There is no API token with this id.")
    if token.revoked_at is None:
        token.revoked_at = now()
        session.add(token)
        audit.record(
            session,
            action="token.revoked",
            actor_id=actor.id,
            subject_type="user",
            subject_id=token.user_id,
            details={"token_id": token.id},
        )
        session.commit()
    return token
