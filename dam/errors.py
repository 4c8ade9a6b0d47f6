"""Domain exceptions. Each knows its HTTP status and error code; services raise only these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


def N_(message: str) -> str:
    """Mark `message` for the catalogs (web/translations) without translating it here."""
    return message


class DomainError(Exception):
    """Base of every error a person should see."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    # Whether `details` belong in the error body that clients see.
    public_details: ClassVar[bool] = False

    def __init__(
        self, message: str, *, params: Mapping[str, Any] | None = None, **details: Any
    ) -> None:
        # `message` is a gettext message id (English, the catalogs translate it where it is
        # shown); values go in `params` as %(name)s placeholders, never into the id itself.
        self.template = message
        self.params = dict(params or {})
        self.message = message % self.params if self.params else message
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
