"""Files an erasure prepares before its transaction (blurred photos and videos, their
renditions): temp files in the blob store's tmp/, fsynced and hashed, named after this
process. The transaction moves them into place just before it commits (`Placement`); a
crash leaves only these, which the next
process to start removes (dam.leftovers), so a job run again leaves nothing behind."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from dam.assets import unused_originals
from dam.blobs import CHUNK, BlobStore, StoredBlob
from dam.owner import temp_prefix

KIND = "erasure-"  # the temp files' prefix


@dataclass(frozen=True)
class Staged:
    temp: Path
    sha256: str
    size: int

    def adopt(self, blobs: BlobStore) -> StoredBlob:
        """Move into the store as an original (its content address)."""
        return blobs.adopt(self.temp, self.sha256, self.size)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)  # gone when it was taken


def new_temp(blobs: BlobStore, suffix: str = "") -> Path:
    fd, name = tempfile.mkstemp(dir=blobs.tmp_dir, prefix=temp_prefix(KIND), suffix=suffix)
    os.close(fd)
    return Path(name)


def stage_chunks(blobs: BlobStore, chunks: Iterable[bytes]) -> Staged:
    path = new_temp(blobs)
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as fh:
            for chunk in chunks:
                digest.update(chunk)
                fh.write(chunk)
                size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(path, digest.hexdigest(), size)


def stage_file(path: Path) -> Staged:
    """A temp file written by a tool (ffmpeg), as it is."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
        os.fsync(fh.fileno())
    return Staged(path, digest.hexdigest(), path.stat().st_size)


@dataclass
class Placement:
    """The staged files an erasure's transaction took, moved into place only just before
    it commits (`settle`): a crash before leaves only temp files, and should the commit
    fail, `discard_unused` removes the originals no asset has."""

    originals: list[Staged] = field(default_factory=list)
    files: list[tuple[Staged, Path]] = field(default_factory=list)  # to where, in the store
    adopted: list[str] = field(default_factory=list)

    def settle(self, blobs: BlobStore) -> None:
        for staged in self.originals:
            self.adopted.append(staged.adopt(blobs).sha256)
        # Derived files are replaced where they lie; should the commit fail after all, a
        # blurred rendition is the safe side (the erasure runs again and blurs it again).
        for staged, target in self.files:
            os.replace(staged.temp, blobs.root / target)
        self.originals.clear()
        self.files.clear()

    def discard_unused(self, session: Session, blobs: BlobStore) -> None:
        """Remove the originals moved into the store that no asset took; ends the
        session's transaction."""
        if not self.adopted:
            return
        try:
            for sha in unused_originals(session, self.adopted):
                blobs.delete_original(sha)
        finally:
            self.adopted.clear()
            session.rollback()
