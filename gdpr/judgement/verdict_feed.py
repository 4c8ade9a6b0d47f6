"""The verdicts' step of the change feed: re-judging what a drain says changed."""

from __future__ import annotations

from sqlmodel import Session

from dam.changes import ChangeBatch
from dam.settings import Settings
from gdpr.judgement import verdicts


class VerdictStep:
    """Re-judges, in the drain's transaction, the verdict sets of people whose consents
    or minority changed (from their stored facts), then every asset whose facts changed
    (once each). Assets whose verdicts change go back into the batch for search."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def apply(self, session: Session, batch: ChangeBatch) -> None:
        if batch.people:
            verdicts.refresh_people(session, sorted(batch.people), settings=self.settings)
        if batch.assets:
            verdicts.refresh(session, sorted(batch.assets), settings=self.settings)

    def settle(self, batch: ChangeBatch) -> None:
        """Nothing: the verdicts are in the database when the drain commits."""
