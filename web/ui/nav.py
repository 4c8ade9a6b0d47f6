"""The main navigation. A page added later (people, consent, search) registers itself here.

Labels are message ids: they are translated when the menu is rendered, and the extractor
finds them through the N_() marker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from web.ui.labels import N_


@dataclass(frozen=True)
class NavItem:
    label: str  # message id
    path: str
    permission: str  # the dam.auth permission a user needs to see the item
    order: int = 100
    # A count shown next to the label (e.g. unread notices), from the request; 0 hides it.
    badge: Callable[[Any], int] | None = None


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _items[item.path] = item


def items() -> list[NavItem]:
    return sorted(_items.values(), key=lambda item: (item.order, item.path))


register(NavItem(N_("Library"), "/", "assets.read", order=10))
register(NavItem(N_("Upload"), "/upload", "assets.upload", order=20))
register(NavItem(N_("Collections"), "/collections", "collections.read", order=30))
register(NavItem(N_("Administration"), "/admin/users", "users.manage", order=90))
