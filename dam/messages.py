"""Messages for people that the database keeps: why an asset, a job, a ZIP or an import
failed. A row stores the message id and its values (`error_message`, JSON) beside the
English text (`error`), so every page and API answer shows it in its reader's language
through the one translate path (web/catalogs.py), long after the failure. The English text
serves the command line and the logs, and is all that rows from before migration 0022
have: those are shown as they are (translated when the text is a message without values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from dam.errors import DomainError, MessageId, plural_form

Stored = dict[str, Any]  # {"id": "..." | ["singular", "plural"], "params": {...}}
_SCALARS = (str, int, float, bool, type(None))


class HasError(Protocol):
    """A row that can fail: an asset, a job, a ZIP batch, an import run."""

    error: str | None
    error_message: Stored | None


@dataclass(frozen=True)
class Message:
    """A message id (a sentence, or its singular and plural) and its %(name)s values."""

    id: MessageId
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: DomainError) -> Message:
        return cls(exc.template, exc.params)

    @property
    def english(self) -> str:
        text = plural_form(self.id, self.params)
        try:
            return text % dict(self.params) if self.params else text
        except (KeyError, ValueError, TypeError):
            return text

    def to_json(self) -> Stored:
        message = self.id if isinstance(self.id, str) else list(self.id)
        # JSON keeps numbers and words; anything else (a Path, a tuple) as its text.
        params = {k: v if isinstance(v, _SCALARS) else str(v) for k, v in self.params.items()}
        return {"id": message, "params": params}

    @classmethod
    def from_json(cls, data: object) -> Message | None:
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
        return cls(message, dict(params) if isinstance(params, Mapping) else {})


def failure_of(row: HasError) -> Message | None:
    """Why `row` failed: its stored message, else (a row from before 0022) its text."""
    stored = Message.from_json(row.error_message)
    if stored is not None:
        return stored
    return Message(row.error) if row.error else None


def record_failure(row: HasError, message: Message | None) -> None:
    """Set (or, with None, clear) why `row` failed: the message and its English text."""
    row.error = message.english if message is not None else None
    row.error_message = message.to_json() if message is not None else None


def failure_columns(message: Message | None) -> dict[str, Any]:
    """The same as values for an UPDATE statement."""
    if message is None:
        return {"error": None, "error_message": None}
    return {"error": message.english, "error_message": message.to_json()}
