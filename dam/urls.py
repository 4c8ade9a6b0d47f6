"""Web addresses people type into Beeldbank (licence pages, where a picture is published).

Only http and https: such an address ends up as a link, and `javascript:` or `data:` in a
link runs in the reader's session.
"""

from __future__ import annotations

from urllib.parse import urlsplit

WEB_SCHEMES = ("http", "https")


def is_web_address(value: str) -> bool:
    """An absolute http(s) address with a host."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.netloc)


def is_url_key(key: str) -> bool:
    """A free-form record's key that names a web address (`url`, `licence_url`, ...)."""
    return key.lower() == "url" or key.lower().endswith("_url")
