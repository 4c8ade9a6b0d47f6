"""The hash-chained audit log: appends, verification, tampering, concurrency."""

from __future__ import annotations

import threading

from sqlalchemy import text

from dam import audit
from dam.runtime import Runtime


def append(rt: Runtime, n: int, actor: str = "u1") -> None:
    for i in range(n):
        with rt.unit_of_work() as session:
            audit.record(
                session,
                action="asset.updated",
                actor_id=actor,
                subject_type="asset",
                subject_id=f"a{i}",
                details={"fields": ["title"]},
            )


def test_chain_verifies_and_links(rt: Runtime) -> None:
    append(rt, 5)
    with rt.session() as session:
        result = audit.verify(session)
        rows = session.execute(
            text("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq")
        ).all()
    assert result == audit.VerifyResult(ok=True, entries=5, first_bad=None)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))


def test_tampering_is_found(rt: Runtime) -> None:
    append(rt, 4)
    with rt.unit_of_work() as session:
        session.execute(text("UPDATE audit_entry SET actor_id = 'someone-else' WHERE seq = 3"))
    with rt.session() as session:
        assert audit.verify(session) == audit.VerifyResult(ok=False, entries=3, first_bad=3)


def test_removing_the_last_entries_is_found(rt: Runtime) -> None:
    append(rt, 4)
    with rt.unit_of_work() as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    with rt.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_bad == 4


def test_rolled_back_action_leaves_no_entry(rt: Runtime) -> None:
    try:
        with rt.unit_of_work() as session:
            audit.record(session, action="asset.deleted", subject_id="x")
            raise RuntimeError("the action failed")
    except RuntimeError:
        pass
    with rt.session() as session:
        assert audit.verify(session) == audit.VerifyResult(ok=True, entries=0, first_bad=None)


def test_concurrent_appends_never_fork_the_chain(rt: Runtime) -> None:
    threads = [threading.Thread(target=append, args=(rt, 10, f"u{t}")) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with rt.session() as session:
        assert audit.verify(session) == audit.VerifyResult(ok=True, entries=40, first_bad=None)
