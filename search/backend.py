"""The search backend protocol: what the embedded Tantivy index and Meilisearch both do.

Reading (`search`, `fingerprints`, `count`, `ping`) may happen in any process. Writing
goes through a `BackendWriter`, and only one writer exists at a time (search.sync elects
it); Tantivy itself refuses a second writer on the same index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from search.document import SearchDocument
from search.query import SearchRequest, SearchResult

Progress = Callable[[int], None]  # called with the number of documents done so far
# The current documents of these asset ids, and the ids of those that no longer exist.
DocumentSource = Callable[[Sequence[str]], tuple[list[SearchDocument], list[str]]]


class SearchUnavailable(Exception):
    """The backend does not answer (Meilisearch down, index unreadable)."""


class WriterBusy(Exception):
    """Another process holds the index writer."""


class BackendWriter(Protocol):
    def upsert(self, documents: Sequence[SearchDocument]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def commit(self) -> None:
        """Make every write so far visible to searches (in every process)."""

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress) -> int:
        """Replace the whole index by `documents` at once; returns how many were written."""

    def purge(self, ids: Sequence[str], documents: DocumentSource) -> int:
        """Write these assets' documents anew (removing those of gone assets) and commit,
        leaving no older copy of them in the index's storage (GDPR art. 17); returns how
        many documents were written."""

    def close(self) -> None: ...


class SearchBackend(Protocol):
    name: str

    def describe(self) -> str:
        """Where the index lives, for `dam doctor` and logs."""

    def ping(self) -> None:
        """Raise SearchUnavailable when the index cannot answer."""

    def open_writer(self) -> BackendWriter:
        """The index writer; raises WriterBusy when another process holds it."""

    def search(self, request: SearchRequest) -> SearchResult: ...

    def fingerprints(self) -> dict[str, str]:
        """Every indexed document's id -> fingerprint (for `dam check --search`)."""

    def count(self) -> int: ...

    def size_bytes(self) -> int | None:
        """Bytes the index takes on disk, when the backend can tell."""

    def close(self) -> None: ...
