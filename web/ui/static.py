"""Static files (CSS, ES modules, icons) served by Beeldbank itself, with cache-busting URLs."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_PREFIX = "/static"


@cache
def _version(name: str) -> str:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR not in path.parents or not path.is_file():
        raise FileNotFoundError(name)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """`/static/<name>?v=<content hash>`: a changed file gets a new URL."""
    return f"{STATIC_PREFIX}/{name}?v={_version(name)}"
