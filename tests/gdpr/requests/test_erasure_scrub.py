"""Erasure's name scrubbing as a pure function: every string inside titles and embedded
metadata (nested dicts and lists), the name as a whole phrase in any case."""

from __future__ import annotations

from typing import Any

import pytest

from gdpr.requests.erasure import PLACEHOLDER as P
from gdpr.requests.erasure import name_pattern, scrub

NAME = "Anna de Vries-Ñúñez"


@pytest.mark.parametrize(
    ("value", "expected", "count"),
    [
        ("Anna de Vries-Ñúñez opent", f"{P} opent", 1),
        ("ANNA DE VRIES-ÑÚÑEZ", P, 1),
        ("met anna de vries-ñúñez en Anna de Vries-Ñúñez", f"met {P} en {P}", 1),
        ("Joanna de Vries-Ñúñezzz", "Joanna de Vries-Ñúñezzz", 0),  # part of other words
        ("Anna de Vries", "Anna de Vries", 0),
        ("", "", 0),
        (None, None, 0),
        (12.5, 12.5, 0),
        (["Anna de Vries-Ñúñez", "bibliotheek"], [P, "bibliotheek"], 1),
        (
            {
                "description": "Anna de Vries-Ñúñez bij de opening",
                "keywords": ["anna de vries-ñúñez", "bibliotheek"],
                "xmp": {"PersonInImage": ["Anna de Vries-Ñúñez"], "Rating": 3},
                "iso": 200,
                "gps": None,
            },
            {
                "description": f"{P} bij de opening",
                "keywords": [P, "bibliotheek"],
                "xmp": {"PersonInImage": [P], "Rating": 3},
                "iso": 200,
                "gps": None,
            },
            3,
        ),
    ],
)
def test_scrub(value: Any, expected: Any, count: int) -> None:
    assert scrub(value, name_pattern(NAME)) == (expected, count)


def test_scrub_leaves_its_input_alone() -> None:
    meta = {"keywords": [NAME]}
    scrub(meta, name_pattern(NAME))
    assert meta == {"keywords": [NAME]}
