"""Rebuilding the index from scratch (`dam reindex`) and comparing it with the database
(`dam check --search`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from search import dirty
from search.backend import Progress
from search.document import SearchDocument
from search.facts import iter_asset_ids
from search.service import SearchService
from search.sync import IndexSync


def count_assets(service: SearchService) -> int:
    return sum(len(ids) for ids in _id_batches(service))


def _id_batches(service: SearchService) -> Iterator[list[str]]:
    return iter_asset_ids(service.sync.sessions)


def all_documents(service: SearchService) -> Iterator[SearchDocument]:
    return _documents(service.sync)


def _documents(sync: IndexSync) -> Iterator[SearchDocument]:
    for ids in iter_asset_ids(sync.sessions):
        documents, _ = sync.documents_for(ids)
        yield from documents


def rebuild(service: SearchService, progress: Progress = lambda done: None) -> int:
    """Replace the index by documents built from the database now; returns how many."""
    return rebuild_index(service.sync, progress)


def rebuild_index(sync: IndexSync, progress: Progress = lambda done: None) -> int:
    """`rebuild` for one runtime's index sync (what an erasure has at hand)."""
    with sync.exclusive_writer() as writer:
        # Marks made before the rebuild reads the assets are covered by it; the ones made
        # while it runs are not, and are indexed right after.
        covered = dirty.oldest(sync.engine, 10**9)
        written = writer.rebuild(_documents(sync), progress)
        dirty.remove(sync.engine, covered)
    sync.flush(timeout=60)
    return written


@dataclass
class IndexReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)  # in the database, not in the index
    stale: list[str] = field(default_factory=list)  # indexed, but not as the database says
    orphaned: list[str] = field(default_factory=list)  # indexed, but no longer an asset
    pending: int = 0  # marked and waiting for the writer (not a fault unless it stays)

    @property
    def problems(self) -> list[str]:
        return (
            [f"asset {a} is missing from the search index" for a in self.missing]
            + [f"asset {a} is stale in the search index" for a in self.stale]
            + [f"search index holds deleted asset {a}" for a in self.orphaned]
        )


def check_index(service: SearchService) -> IndexReport:
    """Every asset's document in the index and up to date, nothing else in it."""
    report = IndexReport(pending=dirty.backlog(service.sync.engine)[0])
    indexed = service.backend().fingerprints()
    seen: set[str] = set()
    for document in all_documents(service):
        report.checked += 1
        seen.add(document.id)
        fingerprint = indexed.get(document.id)
        if fingerprint is None:
            report.missing.append(document.id)
        elif fingerprint != document.fingerprint:
            report.stale.append(document.id)
    report.orphaned = sorted(set(indexed) - seen)
    return report
