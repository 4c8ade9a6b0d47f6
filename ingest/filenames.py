"""File names as clients send them: read from multipart headers and tus metadata, checked once.

A stored name is the last path component of what the client sent, NFC-normalised, without
control characters, at most MAX_FILENAME_BYTES of UTF-8: the limit most file systems put on
one name, so a download can always be saved under the name it was uploaded with.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

from dam.errors import N_, BadRequest

MAX_FILENAME_BYTES = 255

# RFC 5987 charsets a client may name in `filename*=`; anything else is ignored.
_EXT_CHARSETS = {"utf-8": "utf-8", "iso-8859-1": "latin-1"}


def normalize_filename(raw: str) -> str:
    """The last path component of `raw`, NFC, printable characters only, trimmed."""
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    return base.strip()


def client_filename(raw: str | None) -> str | None:
    """The name a client sent, normalised; BadRequest when it is over the limit."""
    if raw is None:
        return None
    name = normalize_filename(raw)
    size = len(name.encode("utf-8"))
    if size > MAX_FILENAME_BYTES:
        raise BadRequest(
            N_(
                "The file name is %(size)s bytes long; names may be at most %(max)s bytes "
                "(UTF-8). Rename the file and send it again."
            ),
            params={"size": size, "max": MAX_FILENAME_BYTES},
        )
    return name or None


def disposition_params(value: str) -> dict[str, str]:
    """Parameters of a multipart part's Content-Disposition, names in lower case.

    Browsers send non-ASCII names as raw UTF-8 inside the quoted string (the HTML form
    encoding); other clients use RFC 5987 `filename*=UTF-8''%E5%86%99...`, which wins when
    both are present. A quoted string unescapes only `\\"` and `\\\\`: a lone backslash is a
    Windows path separator, kept so that the path can be stripped."""
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    for segment in _split_params(value)[1:]:
        key, sep, raw = segment.partition("=")
        key = key.strip().lower()
        raw = raw.strip()
        if not sep or not key:
            continue
        if key.endswith("*"):
            decoded = _extended_value(raw)
            if decoded is not None:
                extended[key[:-1]] = decoded
            continue
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params.setdefault(key, raw)
    return params | extended


def _split_params(value: str) -> list[str]:
    """Split on semicolons outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _extended_value(raw: str) -> str | None:
    """RFC 5987 `charset'language'percent-encoded`; None when it cannot be read."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]  # not allowed by the RFC, but some clients quote it
    charset, sep1, rest = raw.partition("'")
    _language, sep2, encoded = rest.partition("'")
    encoding = _EXT_CHARSETS.get(charset.strip().lower())
    if not (sep1 and sep2) or encoding is None:
        return None
    try:
        return unquote(encoded, encoding=encoding, errors="strict")
    except UnicodeDecodeError:
        return None
