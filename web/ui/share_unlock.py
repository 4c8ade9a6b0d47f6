"""The cookie that remembers a share link's password was given.

Only share pages set it, only after the right password, and only for that link's path
(`/s/<token>`), so it rides along with that link's page and files and nothing else. It is
signed with DAM_SECRET_KEY (it cannot be forged or moved to another link) and expires
after a few hours. Embed pages set no cookie at all, so a protected link cannot be
embedded: the embed points to the share page instead.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "beeldbank_share"
MAX_AGE_S = 4 * 3600
_SALT = "beeldbank.share-unlock"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def unlock_value(secret_key: str, link_id: str) -> str:
    """The cookie value that opens the link `link_id` for MAX_AGE_S seconds."""
    return _serializer(secret_key).dumps(link_id)


def is_unlocked(secret_key: str, value: str | None, link_id: str) -> bool:
    if not value:
        return False
    try:
        found = _serializer(secret_key).loads(value, max_age=MAX_AGE_S)
    except BadSignature:  # also raised (as SignatureExpired) once the cookie is too old
        return False
    return found == link_id
