"""The search index writer recovers by itself: a full disk, a panic, a thread that ended."""

from __future__ import annotations

import threading

import pytest

from dam.runtime import Runtime
from search import sync
from search.service import SearchService
from search.tantivy_backend import TantivyWriter
from tests.test_search_sync import found, make_asset, service, wait_for

__all__ = ["service"]  # the fixture, shared


class FakePanic(BaseException):
    """Like pyo3's PanicException: not an Exception."""


def test_the_writer_goes_on_after_a_full_disk_and_a_panic(
    rt: Runtime, service: SearchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "BACKOFF_S", 0.1)
    failures: list[BaseException] = [
        ValueError("Internal error: 'No space left on device (os error 28)'"),
        FakePanic("called `Result::unwrap()` on an `Err` value"),
    ]
    real_commit = TantivyWriter.commit

    def commit(self: TantivyWriter) -> None:
        if failures:
            raise failures.pop(0)
        real_commit(self)

    monkeypatch.setattr(TantivyWriter, "commit", commit)
    asset_id = make_asset(rt, "Haven van Oostende")
    wait_for(lambda: found(service, "oostende") == [asset_id], timeout=10)
    assert failures == []
    assert service.sync._thread is not None and service.sync._thread.is_alive()


def test_a_writer_thread_that_ended_is_started_again_by_the_next_change(
    rt: Runtime, service: SearchService
) -> None:
    first = make_asset(rt, "Belfort van Brugge")
    wait_for(lambda: found(service, "belfort") == [first])
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    service.sync._stop.set()  # the running writer ends...
    service.sync._wake.set()
    assert service.sync._thread is not None
    service.sync._thread.join(5)
    service.sync._stop.clear()
    service.sync._thread = dead  # ...as a thread that died would leave it
    second = make_asset(rt, "Belfort van Gent")
    wait_for(lambda: found(service, "belfort") == sorted([first, second]), timeout=5)
