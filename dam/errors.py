"""Domain exceptions. Each knows its HTTP status and error code; services raise only these."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error a person should see."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    # Whether `details` belong in the error body that clients see.
    public_details: ClassVar[bool] = False

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
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
