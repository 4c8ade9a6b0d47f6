"""The content-addressed store: hashing while writing, stored once, read-only, no leftovers."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from dam.blobs import BlobStore


def test_stream_is_stored_once_by_hash_and_read_only(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = b"beeldbank" * 100_000
    first = store.put_stream(iter([data[:1000], data[1000:]]))
    second = store.put_stream(iter([data]))
    digest = hashlib.sha256(data).hexdigest()
    assert (first.sha256, first.size, first.created) == (digest, len(data), True)
    assert (second.sha256, second.created) == (digest, False)
    assert first.path == tmp_path / "originals" / digest[:2] / digest[2:4] / digest
    assert first.path.read_bytes() == data
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o444
    assert list((tmp_path / "tmp").iterdir()) == []


def test_failed_stream_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)

    def chunks():  # type: ignore[no-untyped-def]
        yield b"half of a file"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream(chunks())
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list(store.iter_originals()) == []


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab" * 31 + "zz", "A" * 64, ""])
def test_paths_never_come_from_user_input(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path).original_path(bad)


def test_derived_dir_refuses_path_tricks(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(ValueError):
        store.derived_dir("../x")
    assert store.derived_dir("abc123") == tmp_path / "derived" / "abc123"
