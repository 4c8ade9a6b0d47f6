"""dam.chunks: id lists cut for IN (...) clauses."""

from __future__ import annotations

import pytest

from dam.chunks import BATCH, chunks


@pytest.mark.parametrize(
    ("items", "size", "expected"),
    [
        ([], 3, []),
        (["a"], 3, [["a"]]),
        (["a", "b", "c"], 3, [["a", "b", "c"]]),
        (["a", "b", "c", "d"], 3, [["a", "b", "c"], ["d"]]),
        (("a", "b", "c", "d", "e"), 2, [["a", "b"], ["c", "d"], ["e"]]),
        (["a", "b"], 1, [["a"], ["b"]]),
    ],
)
def test_chunks_keep_order_and_size(items: list[str], size: int, expected: list[list[str]]) -> None:
    assert list(chunks(items, size)) == expected


def test_the_default_size_is_the_batch() -> None:
    ids = [str(n) for n in range(2 * BATCH + 1)]
    assert [len(c) for c in chunks(ids)] == [BATCH, BATCH, 1]


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks(["a"], 0))
