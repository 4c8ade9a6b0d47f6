"""Opaque, roughly time-ordered identifiers."""

import secrets
import time


def new_id() -> str:
    """A 26-hex-character id: 48 bits of milliseconds then 56 random bits (sorts by creation)."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(7)}"
