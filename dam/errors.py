"""Domain exceptions. Each knows its HTTP status and error code; services raise only these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

# A gettext message id: a sentence, or a sentence with its plural form (N_plural).
MessageId = str | tuple[str, str]


def N_(message: str) -> str:
    """Mark `message` for the catalogs (web/translations) without translating it here."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message that counts something: the catalogs pick the form for the error's
    `num` param (ngettext), so a count reads "1 asset", "2 assets" in every language."""
    return (singular, plural)


def plural_form(message: MessageId, params: Mapping[str, Any]) -> str:
    """The English form of `message` for its params (the singular only for exactly one)."""
    if isinstance(message, str):
        return message
    return message[0] if params.get("num") == 1 else message[1]


class DomainError(Exception):
    """Base of every error a person should see."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    # Whether `details` belong in the error body that clients see.
    public_details: ClassVar[bool] = False

    def __init__(
        self, message: MessageId, *, params: Mapping[str, Any] | None = None, **details: Any
    ) -> None:
        # `message` is a gettext message id (English, the catalogs translate it where it is
        # shown); values go in `params` as %(name)s placeholders, never into the id itself.
        # A count goes in `num`, with the message's plural form marked by N_plural.
        self.template = message
        self.params = dict(params or {})
        text = plural_form(message, self.params)
        self.message = text % self.params if self.params else text
        super().__init__(self.message)
        self.details = details


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class InvalidInput(DomainError):
    status, code = 422, "invalid_input"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Gone(DomainError):
    status, code = 410, "gone"


class TooLarge(DomainError):
    status, code = 413, "too_large"


class UnsupportedMedia(DomainError):
    status, code = 415, "unsupported_media"


class ProcessingError(DomainError):
    """A file could not be processed; the message tells a person why (the asset fails)."""

    status, code = 422, "processing_failed"


class NotCleared(DomainError):
    """The asset may not leave for this channel; `details` carries the verdict's reasons."""

    status, code = 409, "not_cleared"
    public_details = True


class StorageFull(DomainError):
    """The data directory has (almost) no free space left; nothing was stored."""

    status, code = 507, "storage_full"
