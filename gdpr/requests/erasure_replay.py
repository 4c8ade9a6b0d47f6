"""Erasing again after a restore: whoever the erasure ledger names and the restored
database still holds is erased the way the privacy officer chose then (GDPR art. 17: a
restore from a backup must not bring an erased person back)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlmodel import col, select

from dam.erasure_ledger import LedgerEntry
from dam.models import Person, Role, User
from dam.runtime import Runtime
from gdpr.requests.erasure import AssetsChoice, erase_person

log = logging.getLogger(__name__)


def replay_erasures(rt: Runtime, entries: Sequence[LedgerEntry]) -> list[str]:
    """Erase each person an entry names that exists here; the ids erased, oldest first."""
    erased: list[str] = []
    for entry in entries:
        with rt.unit_of_work() as session:
            if entry.person_id in erased or session.get(Person, entry.person_id) is None:
                continue
            actor = session.get(User, entry.actor_id) if entry.actor_id else None
            if actor is None:
                # The officer's account came after the backup: an admin of this one acts.
                actor = session.exec(
                    select(User)
                    .where(col(User.role).in_([Role.admin, Role.privacy_officer]))
                    .order_by(col(User.created_at))
                ).first()
            if actor is None:
                raise RuntimeError(
                    f"person {entry.person_id} must be erased again, but the restored "
                    "database has no admin or privacy officer to record it"
                )
            choice = AssetsChoice.delete if entry.assets == "deleted" else AssetsChoice.redact
            erase_person(
                session,
                person_id=entry.person_id,
                assets=choice,
                actor=actor,
                blobs=rt.blobs,
                settings=rt.settings,
            )
        log.info(
            "person %s erased again (ledger tombstone %s)", entry.person_id, entry.tombstone_id
        )
        erased.append(entry.person_id)
    return erased
