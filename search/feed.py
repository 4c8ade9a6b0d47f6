"""Search's step of the change feed: the documents of what a drain handled are marked in
the drain's transaction, so a mark is never lost between the change and the index."""

from __future__ import annotations

import logging

from sqlmodel import Session

from dam.changes import ChangeBatch
from search import dirty
from search.sync import IndexSync

log = logging.getLogger(__name__)


class IndexStep:
    """Marks every asset of a drain once (after the verdicts were judged: documents show
    them); once the drain committed, deleted assets leave the index and erased people's
    documents are purged before the committing request returns."""

    def __init__(self, sync: IndexSync) -> None:
        self.sync = sync

    def apply(self, session: Session, batch: ChangeBatch) -> None:
        dirty.mark_in(session.connection(), batch.document_ids(session))

    def settle(self, batch: ChangeBatch) -> None:
        if batch.purged:
            # Their names must be gone from search, and from the index's files too (art.
            # 17), when the erasure is reported done.
            self.sync.purge(sorted(batch.purged))
        removed = sorted(batch.removed - batch.purged)
        if removed and not self.sync.flush(removed):
            log.warning("search index did not confirm %d removal(s) in time", len(removed))
        self.sync.wake()
