"""Built-in packages wire themselves in like any plugin would."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from dam.wiring import Wiring

# Each module has a `register(wiring)` function. Listing a dotted path here is all that
# wiring a package in takes; the core never imports the packages that build on it directly.
BUILTIN_PLUGINS = ("ingest.plugin", "search.plugin", "gdpr.plugin", "web.plugin")


def builtin_wiring(names: Iterable[str] = BUILTIN_PLUGINS) -> Wiring:
    """A fresh wiring filled by each plugin's register() (one per runtime)."""
    wiring = Wiring()
    for name in names:
        importlib.import_module(name).register(wiring)
        wiring.plugins.append(name)
    return wiring
