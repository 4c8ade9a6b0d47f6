"""An erased person's name out of the originals of the pictures they were on but that are
kept (suggested faces, or named in a caption): the file is stored again with the name
overwritten in its embedded metadata (gdpr/requests/metadata_scrub.py), under its new content
address; the old blob is removed once the erasure committed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from sqlmodel import Session

from dam.blobs import CHUNK, BlobStore, StoredBlob
from dam.models import Asset
from gdpr.requests import metadata_scrub


def scrub_originals(
    session: Session, blobs: BlobStore, name: str, asset_ids: Sequence[str]
) -> dict[str, str]:
    """Store a copy of each original whose embedded metadata holds the name, with the name
    overwritten, as the asset's original (a new content address): asset id -> the old
    original's hash, for the caller to delete after the commit."""
    changed: dict[str, str] = {}
    for asset_id in asset_ids:
        asset = session.get(Asset, asset_id)
        if asset is None or not name.strip():
            continue
        path = blobs.original_path(asset.sha256)
        if not path.is_file():
            continue
        stored = scrubbed_copy(blobs, path, name)
        if stored is None:
            continue
        changed[asset_id] = asset.sha256
        asset.sha256, asset.size = stored.sha256, stored.size
        session.add(asset)
    session.flush()
    return changed


IN_MEMORY_SCRUB_BYTES = 256 * 1024**2


def scrubbed_copy(blobs: BlobStore, path: Path, name: str) -> StoredBlob | None:
    """The file at `path` stored with the name overwritten in it; None when it holds none."""
    chunks = scrubbed_chunks(path, name)
    return None if chunks is None else blobs.put_stream(chunks)


def scrubbed_chunks(path: Path, name: str) -> Iterable[bytes] | None:
    """The bytes of the file at `path` with the name overwritten; None when it holds none."""
    if path.stat().st_size <= IN_MEMORY_SCRUB_BYTES:
        return _scrubbed_bytes(path, name)
    return _scrubbed_stream(path, name)


def _scrubbed_bytes(path: Path, name: str) -> list[bytes] | None:
    data = path.read_bytes()
    new, count = metadata_scrub.scrub(data, name)
    if metadata_scrub.contains(new, name):
        # Somewhere the structured scrub does not reach (metadata in another container):
        # overwrite every occurrence in the whole file.
        new, more = metadata_scrub.replace_all(new, name)
        count += more
    return [new] if count else None


def _scrubbed_stream(path: Path, name: str) -> Iterator[bytes] | None:
    with path.open("rb") as fh:
        found = any(
            count
            for _, count in metadata_scrub.scrub_chunks(iter(lambda: fh.read(CHUNK), b""), name)
        )
    if not found:
        return None
    return _scrubbing(path, name)


def _scrubbing(path: Path, name: str) -> Iterator[bytes]:
    with path.open("rb") as fh:
        for chunk, _ in metadata_scrub.scrub_chunks(iter(lambda: fh.read(CHUNK), b""), name):
            yield chunk
