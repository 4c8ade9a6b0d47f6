"""Users, password hashes, API tokens and the role matrix."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from dam import audit
from dam.clock import now
from dam.errors import (
    N_,
    Conflict,
    Forbidden,
    InvalidInput,
    N_plural,
    NotFound,
    Unauthorized,
)
from dam.models import ApiToken, Role, User

_hasher = PasswordHasher()

TOKEN_PREFIX = "bb_"  # noqa: S105 - a visible prefix, not a secret

# Which role an action needs at least. The docs table (docs/roles.md) is checked against
# this by a test, and every API route declares one of these names.
# What a role is called where people read it (message ids of the catalogs in
# web/translations: raadpleger, maker, privacyverantwoordelijke, beheerder). The codes stay
# the API's.
ROLE_NAMES: dict[Role, str] = {
    Role.viewer: N_("viewer"),
    Role.creative: N_("creative"),
    Role.privacy_officer: N_("privacy officer"),
    Role.admin: N_("administrator"),
}

PERMISSIONS: dict[str, Role] = {
    "assets.read": Role.viewer,
    "assets.download_rendition": Role.viewer,
    "jobs.read": Role.viewer,
    "collections.read": Role.viewer,
    "assets.upload": Role.creative,
    "assets.edit": Role.creative,
    "assets.delete": Role.creative,
    "assets.download_original": Role.creative,
    "collections.edit": Role.creative,
    "people.read": Role.creative,
    "faces.identify": Role.creative,
    "usages.record": Role.creative,
    "shares.manage": Role.creative,
    "people.manage": Role.privacy_officer,
    "consents.manage": Role.privacy_officer,
    "assets.any_verdict": Role.privacy_officer,
    "privacy.export": Role.privacy_officer,
    "people.erase": Role.privacy_officer,
    "audit.read": Role.privacy_officer,
    "users.manage": Role.admin,
    "metrics.read": Role.admin,
}

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def has_permission(user: User, permission: str) -> bool:
    """Whether `user`'s role includes the one `permission` needs."""
    return role_has_permission(user.role, permission)


def role_has_permission(role: Role | str, permission: str) -> bool:
    """Whether `role` includes the one `permission` needs."""
    return Role(role).includes(PERMISSIONS[permission])


def check_permission(user: User, permission: str) -> None:
    """Raise Forbidden unless `user`'s role includes the one `permission` needs."""
    if not has_permission(user, permission):
        role = ROLE_NAMES[PERMISSIONS[permission]]
        raise Forbidden(N_("This needs the role %(role)s or higher."), params={"role": role})


def check_password_length(password: str) -> None:
    """InvalidInput unless `password` is at least MIN_PASSWORD_LENGTH characters long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_plural(
                "A password needs at least %(num)s character.",
                "A password needs at least %(num)s characters.",
            ),
            params={"num": MIN_PASSWORD_LENGTH},
        )


def create_user(
    session: Session, *, email: str, password: str, role: Role, actor_id: str | None = None
) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput("An e-mail address needs an @.")
    check_password_length(password)
    if session.exec(select(User).where(User.email == email)).first():
        raise Conflict("A user with this e-mail address exists already.")
    user = User(email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    audit.record(
        session,
        action="user.created",
        actor_id=actor_id,
        subject_type="user",
        subject_id=user.id,
        details={"role": role.value},
    )
    return user


def get_user_by_email(session: Session, email: str) -> User:
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound("No user with this e-mail address.")
    return user


def create_token(
    session: Session, *, user: User, name: str = "", actor_id: str | None = None
) -> str:
    """Create an API token and return it; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token)))
    audit.record(
        session,
        action="token.created",
        actor_id=actor_id or user.id,
        subject_type="user",
        subject_id=user.id,
    )
    return token


def user_for_token(session: Session, token: str) -> User:
    """The active user a bearer token belongs to, or Unauthorized."""
    row = session.exec(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == _token_hash(token))
    ).first()
    if row is None:
        raise Unauthorized("The API token is not valid.")
    api_token, user = row
    if api_token.revoked_at is not None or not user.is_active:
        raise Unauthorized("The API token was revoked or its user deactivated.")
    moment = now()
    last = api_token.last_used_at
    if last is None or (moment - last).total_seconds() > 60:
        api_token.last_used_at = moment  # at most once a minute: reads stay cheap
        session.add(api_token)
    return user


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()
