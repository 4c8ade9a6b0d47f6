"""Numbers inside messages in the reader's language (issue 15): like a size
(tests/test_sizes.py), a number stays a number in a kept message and is written when shown:
"6.000 × 4.000" for a Dutch reader, "6,000 × 4,000" for an English one."""

from __future__ import annotations

import pytest

from dam.errors import Message
from dam.numbers import Number, format_number
from ingest.image.errors import too_many_pixels
from web import catalogs


@pytest.mark.parametrize(
    ("value", "nl", "en"),
    [(0, "0", "0"), (999, "999", "999"), (6000, "6.000", "6,000"), (1.5, "1,5", "1.5")],
)
def test_numbers_are_written_the_languages_way(value: float, nl: str, en: str) -> None:
    assert format_number(value, "nl_BE") == nl
    assert format_number(value, "en_GB") == str(Number(value)) == en


def test_a_kept_decode_error_keeps_its_dimensions_as_numbers() -> None:
    stored = Message.of(too_many_pixels(24_000_000, 20_000_000, (6000, 4000))).to_json()
    assert stored["params"]["width"] == {"number": 6000}
    assert stored["params"]["mp"] == {"number": 24}
    again = Message.from_json(stored)
    assert again is not None and again.params["height"] == Number(4000)
    assert again.english.startswith("The image is 6,000 × 4,000 pixels (24 megapixels)")
    assert catalogs.translate_message("nl", again).startswith(
        "De afbeelding is 6.000 × 4.000 pixels (24 megapixels), meer dan de limiet van "
        "20 megapixels."
    )
