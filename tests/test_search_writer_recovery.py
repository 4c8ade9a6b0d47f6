"""The index writer thread outlives a failing cycle: it logs, backs off and takes up its
work once the database is there (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text

from dam import migrate
from dam.runtime import build_runtime
from dam.settings import Settings
from search import sync as sync_module
from search.service import service_for


def eventually(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.empty_database  # no tables yet: the writer's first cycle fails
def test_the_writer_logs_a_failing_cycle_and_recovers(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "BACKOFF_S", 0.2)
    runtime = build_runtime(settings)
    try:
        sync = service_for(runtime).sync
        with caplog.at_level(logging.ERROR, logger="search.sync"):
            sync.start()
            eventually(lambda: any("sync failed" in r.getMessage() for r in caplog.records))
        migrate.upgrade(runtime.engine)

        def holds_the_lease() -> bool:
            with runtime.engine.connect() as conn:
                holders = conn.execute(text("SELECT holder FROM search_lease")).scalars().all()
            return holders == [sync.holder]

        eventually(holds_the_lease)
    finally:
        runtime.close()
