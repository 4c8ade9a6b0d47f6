"""Where the catalogs' messages come from: the UI's templates and code, and the message of
every error the services raise (the API answers them in the caller's language too).

`scripts/translations` and tests/test_ui_i18n.py extract with these, so the catalogs and the
check that every message is translated look at the same strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parent.parent

METHOD_MAP = [
    ("web/ui/**.py", "python"),
    ("web/templates/**.html", "jinja2"),
    ("web/*.py", "python"),
    ("web/api/**.py", "python"),
    ("dam/**.py", "python"),
    ("gdpr/**.py", "python"),
    ("ingest/**.py", "python"),
    ("search/**.py", "python"),
]
OPTIONS = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}

# The domain errors (dam/errors.py and their subclasses): the first argument of each is a
# message id. tests/test_ui_i18n.py checks that this list names every subclass.
ERROR_CLASSES = (
    "DomainError",
    "BadRequest",
    "InvalidInput",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Gone",
    "TooLarge",
    "UnsupportedMedia",
    "ProcessingError",
    "NotCleared",
    "StorageFull",
    "WrongCredentials",
    "FaceKeyMissing",
    "BadReason",
    "NoPerson",
    "AmbiguousName",
    "MayNotCreatePeople",
    "NoGroups",
    "BadName",
    "ChecksumMismatch",
    "Cancelled",
    "CaptionError",
    "SearchUnavailableError",
    "LoginRequired",
    "CsrfFailed",
    "SsoFailed",
)
# Errors whose message is not their first argument (SsoFailed(reason, message)).
MESSAGE_ARGUMENT = {"SsoFailed": (2,)}

KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "N_plural": (1, 2),
    **dict.fromkeys(ERROR_CLASSES),
    **MESSAGE_ARGUMENT,
}

Message = str | tuple[str, str]


def setting_descriptions() -> list[str]:
    """What each setting means (dam/settings.py), shown translated on /admin/settings."""
    from dam.settings import Settings

    return [f.description for f in Settings.model_fields.values() if f.description]


def messages() -> list[Message]:
    """Every message id in source order (plurals as (singular, plural))."""
    found: list[Message] = []
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS
    ):
        if isinstance(message, str):
            found.append(message)
        elif message[0] and message[1]:
            found.append((message[0], message[1]))
    return found + setting_descriptions()


def extract() -> set[Message]:
    """Every message id, found the way pybabel finds them, and the settings' meanings."""
    return set(messages())
