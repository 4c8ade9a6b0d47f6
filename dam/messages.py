"""Messages for people that the database keeps: why an asset, a job, a ZIP or an import
failed. A row stores the message id and its values (`error_message`, JSON: a
`dam.errors.Message`) beside the English text (`error`), so every page and API answer shows
it in its reader's language through the one translate path (web/catalogs.py), long after
the failure. The English text serves the command line and the logs, and is all that rows
from before migration 0022 have: those are shown as they are (translated when the text is
a message without values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from dam.errors import Message

if TYPE_CHECKING:
    from dam.wiring import Wiring

Stored = dict[str, Any]  # Message.to_json(): {"id": "..." | [singular, plural], "params": {}}


class HasError(Protocol):
    """A row that can fail: an asset, a job, a ZIP batch, an import run."""

    error: str | None
    error_message: Stored | None


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


# The wiring's extension point through which web lends its catalogs to jobs that write
# text for a person outside a page (a ZIP's manifest and README in its requester's
# language): `wiring.extend(TRANSLATOR, name, translate)`, translate(locale, message).
TRANSLATOR = "messages.translator"
Translate = Callable[[str, Message], str]


def translator(wiring: Wiring) -> Translate:
    """How `wiring` renders a message in a language (web's catalogs); without one, in
    English as written."""
    lent = list(wiring.extension(TRANSLATOR).values())
    if lent:
        found: Translate = lent[-1]
        return found
    return lambda _locale, message: message.english
