"""The main navigation: items in the runtime's wiring (extension point NAV), added by
web/plugin.py; a page added later (people, privacy) brings its own item.

Labels are message ids: they are translated when the menu is rendered, and the extractor
finds them through the N_() marker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dam.wiring import Wiring
from web.ui.labels import N_


@dataclass(frozen=True)
class NavItem:
    label: str  # message id
    path: str
    permission: str  # the dam.auth permission a user needs to see the item
    order: int = 100
    # A count shown next to the label (e.g. unread notices), from the request; 0 hides it.
    badge: Callable[[Any], int] | None = None

    def __str__(self) -> str:  # as `dam doctor --wiring` shows it
        return f"{self.label} ({self.permission}, order {self.order})"


NAV = "web.nav"

CORE_ITEMS = (
    NavItem(N_("Library"), "/", "assets.read", order=10),
    NavItem(N_("Upload"), "/upload", "assets.upload", order=20),
    NavItem(N_("Collections"), "/collections", "collections.read", order=30),
    NavItem(N_("Administration"), "/admin/users", "users.manage", order=90),
)


def add(wiring: Wiring, item: NavItem) -> None:
    wiring.extend(NAV, item.path, item)


def items(wiring: Wiring) -> list[NavItem]:
    found: list[NavItem] = list(wiring.extension(NAV).values())
    return sorted(found, key=lambda item: (item.order, item.path))
