"""Built-in packages register their stages, subscribers and commands like any plugin would."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

# Each module has a `register()` function. Listing a dotted path here is all that wiring
# a package in takes; the core never imports the packages that build on it directly.
BUILTIN_PLUGINS = ("ingest.plugin", "search.plugin", "gdpr.plugin", "web.plugin")

_loaded: set[str] = set()


def load_plugins(names: Iterable[str] = BUILTIN_PLUGINS) -> None:
    """Import each plugin module and call its register() once per process."""
    for name in names:
        if name in _loaded:
            continue
        module = importlib.import_module(name)
        module.register()
        _loaded.add(name)
