"""Which role a set of claims gives (pure): the mapping table, the highest role, defaults."""

from __future__ import annotations

from typing import Any

import pytest

from dam.models import Role
from dam.sso import claim_values, role_for

TABLE = {"beeldbank-admins": "admin", "beeldbank-editors": "creative", "dpo": "privacy_officer"}


@pytest.mark.parametrize(
    ("claims", "path", "values"),
    [
        ({"groups": ["a", "b"]}, "groups", ["a", "b"]),
        ({"roles": "a"}, "roles", ["a"]),
        ({"realm_access": {"roles": ["x", 3, "y"]}}, "realm_access.roles", ["x", "y"]),
        ({"realm_access": ["x"]}, "realm_access.roles", []),
        ({"groups": {"a": 1}}, "groups", []),
        ({}, "groups", []),
    ],
)
def test_claim_values(claims: dict[str, Any], path: str, values: list[str]) -> None:
    assert claim_values(claims, path) == values


@pytest.mark.parametrize(
    ("values", "default", "role"),
    [
        (["beeldbank-editors"], "viewer", Role.creative),
        (["beeldbank-editors", "beeldbank-admins", "dpo"], "viewer", Role.admin),
        (["dpo", "beeldbank-editors"], "viewer", Role.privacy_officer),
        (["Beeldbank-Editors"], "viewer", Role.viewer),  # values match exactly
        ([], "creative", Role.creative),
        ([], "none", None),
        (["other"], "none", None),
    ],
)
def test_role_for(values: list[str], default: str, role: Role | None) -> None:
    assert role_for(values, table=TABLE, default=default) == role
