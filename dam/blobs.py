"""Content-addressed originals and rebuildable derived files on the local file system."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dam.owner import temp_prefix

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    path: Path
    created: bool  # False when identical content was already stored


class BlobWriter:
    """Streams bytes to a temp file on the store's file system while hashing them."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix=temp_prefix("in-"))
        self._file: BinaryIO = os.fdopen(fd, "wb", buffering=CHUNK)
        self.temp_path = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        self._hash.update(data)
        self._file.write(data)
        self.size += len(data)

    def commit(self) -> StoredBlob:
        """Fsync, then move into place by hash (or drop it when the content exists)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._store.adopt(self.temp_path, self._hash.hexdigest(), self.size)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.temp_path.unlink(missing_ok=True)


class BlobStore:
    """originals/ab/cd/<sha256> (read-only, written once) and derived/<asset id>/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.originals_dir = root / "originals"
        self.derived_root = root / "derived"
        self.tmp_dir = root / "tmp"
        for d in (self.originals_dir, self.derived_root, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)

    def original_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.originals_dir / sha256[:2] / sha256[2:4] / sha256

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def put_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        writer = self.writer()
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def put_file(self, path: Path) -> StoredBlob:
        with path.open("rb") as fh:
            return self.put_stream(iter(lambda: fh.read(CHUNK), b""))

    def adopt(self, temp_path: Path, sha256: str, size: int) -> StoredBlob:
        """Move a fully written, fsynced temp file (on this file system) into place."""
        target = self.original_path(sha256)
        if target.exists():
            temp_path.unlink(missing_ok=True)
            return StoredBlob(sha256, size, target, created=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp_path, 0o444)
        os.replace(temp_path, target)
        _fsync_dir(target.parent)
        return StoredBlob(sha256, size, target, created=True)

    def delete_original(self, sha256: str) -> None:
        self.original_path(sha256).unlink(missing_ok=True)

    def derived_dir(self, asset_id: str) -> Path:
        if not asset_id.isalnum():
            raise ValueError("asset id must be alphanumeric")
        return self.derived_root / asset_id

    def delete_derived(self, asset_id: str) -> None:
        shutil.rmtree(self.derived_dir(asset_id), ignore_errors=True)

    def iter_originals(self) -> Iterable[Path]:
        return (p for p in self.originals_dir.glob("??/??/*") if p.is_file())


def hash_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write a derived file so that readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(name, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
