"""Domain exceptions. Each knows its HTTP status and error code; services raise only these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeGuard

from dam.numbers import Number
from dam.sizes import Size

# A gettext message id: a sentence, or a sentence with its plural form (N_plural).
MessageId = str | tuple[str, str]
LIST_SEPARATOR = "; "  # between the items of a list of messages (the same in every language)


def join_messages(items: Sequence[str]) -> str:
    """A list of messages as one text: a sentence (ending in . ! or ?) is followed by a
    space, anything else by LIST_SEPARATOR; "A. B." rather than "A.; B."."""
    parts: list[str] = []
    for i, item in enumerate(items):
        parts.append(item)
        if i < len(items) - 1:
            parts.append(" " if item.rstrip().endswith((".", "!", "?")) else LIST_SEPARATOR)
    return "".join(parts)


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


@dataclass(frozen=True)
class Message:
    """A message id and its %(name)s values. A value may itself be a Message, or a list of
    them (each line of a file's problems, say): rendered with it, in the same language
    (web/catalogs.translate), the list's items joined by LIST_SEPARATOR. A file size is a
    `dam.sizes.Size` and a number a `dam.numbers.Number`, formatted in that language too
    ("1,5 MB", "6.000 × 4.000")."""

    id: MessageId
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: DomainError) -> Message:
        """A domain error's message (to keep, or to raise again)."""
        return cls(exc.template, exc.params)

    @property
    def english(self) -> str:
        """The message as written in the code, its values filled in."""
        text = plural_form(self.id, self.params)
        if not self.params:
            return text
        try:
            return text % _english_values(self.params)
        except (KeyError, ValueError, TypeError):
            return text

    def to_json(self) -> dict[str, Any]:
        """The message as JSON (a stored failure, dam/messages.py)."""
        message = self.id if isinstance(self.id, str) else list(self.id)
        return {"id": message, "params": {k: _to_json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: object) -> Message | None:
        """The message `to_json` made; None for anything else."""
        if not isinstance(data, Mapping):
            return None
        message, params = data.get("id"), data.get("params")
        if (
            isinstance(message, list)
            and len(message) == 2
            and all(isinstance(m, str) for m in message)
        ):
            message = (message[0], message[1])
        if not isinstance(message, (str, tuple)) or not message:
            return None
        values = params if isinstance(params, Mapping) else {}
        return cls(message, {str(k): _from_json(v) for k, v in values.items()})


def is_message_list(value: object) -> TypeGuard[Sequence[Message]]:
    return isinstance(value, (list, tuple)) and all(isinstance(v, Message) for v in value)


def _english_values(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _english(v) for k, v in params.items()}


def _english(value: object) -> object:
    if isinstance(value, Message):
        return value.english
    if is_message_list(value):
        return join_messages([m.english for m in value])
    if isinstance(value, (Size, Number)):
        return str(value)
    return value


def _to_json(value: object) -> object:
    if isinstance(value, Message):
        return value.to_json()
    if is_message_list(value):
        return [m.to_json() for m in value]
    if isinstance(value, (Size, Number)):
        return value.to_json()
    # JSON keeps numbers and words; anything else (a Path, say) as its text.
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _from_json(value: object) -> object:
    if isinstance(value, Mapping):
        if set(value) == {"bytes"} and isinstance(value["bytes"], int):
            return Size(value["bytes"])
        if set(value) == {"number"} and isinstance(value["number"], (int, float)):
            return Number(value["number"])
        return Message.from_json(value) or str(value)
    if isinstance(value, list):
        items = [Message.from_json(v) for v in value]
        return [m for m in items if m is not None]
    return value


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
        # A count goes in `num`, with the message's plural form marked by N_plural. A value
        # may be a Message of its own, or a list of them (Message).
        self.template = message
        self.params = dict(params or {})
        text = plural_form(message, self.params)
        # Strict where the error is made (a placeholder without its value is a bug to see);
        # Message.english forgives, for messages read back from the database.
        self.message = text % _english_values(self.params) if self.params else text
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
