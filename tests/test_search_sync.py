"""The index follows the database (SQLite and PostgreSQL, real Tantivy): within a second of
a commit, at once for deletions, across processes through one elected writer, rebuilt
from scratch by a reindex, and checked against the database."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import insert, text

from dam import assets, changes
from dam.auth import create_user
from dam.clock import now
from dam.models import Asset, AssetTag, Role, User
from dam.runtime import Runtime
from search import dirty, facts, lease
from search.maintenance import check_index, rebuild
from search.query import Access, SearchRequest, parse_query
from search.service import SearchService, service_for
from search.sync import LEASE_TTL_S, IndexSync
from search.tantivy_backend import TantivyBackend
from tests.feed_factories import SEARCHABLE_WITHIN_S


def make_asset(
    rt: Runtime, title: str, *, tags: tuple[str, ...] = (), announce: bool = True
) -> str:
    """An asset row as ingest leaves it; `announce=False` writes it behind the change
    feed's back (plain SQL: what a bug or a hand-made repair would do)."""
    asset = Asset(
        kind="image",
        status="ready",
        filename="photo.jpg",
        mime="image/jpeg",
        size=1,
        sha256=hashlib.sha256(title.encode()).hexdigest(),
        title=title,
    )
    if not announce:
        with rt.engine.begin() as conn:
            row = {c.name: getattr(asset, c.key, None) for c in Asset.__table__.columns}  # type: ignore[attr-defined]
            conn.execute(insert(Asset.__table__).values({**row, "metadata": {}}))  # type: ignore[attr-defined]
            for tag in tags:
                conn.execute(insert(AssetTag.__table__).values(asset_id=asset.id, tag=tag))  # type: ignore[attr-defined]
        return asset.id
    with rt.unit_of_work() as session:
        session.add(asset)
        session.flush()
        session.add_all(AssetTag(asset_id=asset.id, tag=t) for t in tags)
    return asset.id


@pytest.fixture
def service(rt: Runtime) -> SearchService:
    return service_for(rt)


@pytest.fixture
def admin(rt: Runtime) -> User:
    with rt.unit_of_work() as session:
        return create_user(
            session, email="admin@example.test", password="correct horse battery", role=Role.admin
        )


def found(service: SearchService, q: str) -> list[str]:
    request = SearchRequest(query=parse_query(q), access=Access(True, True), per_page=100)
    return sorted(h.id for h in service.backend().search(request).hits)


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> float:
    """Seconds until `condition` held (fails the test after `timeout`)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_change_is_searchable_within_a_second(
    rt: Runtime, service: SearchService, admin: User
) -> None:
    asset_id = make_asset(rt, "Fietsers op de Graslei", tags=("gent",))
    wait_for(lambda: found(service, "graslei ") == [asset_id])
    with rt.session() as session:
        assets.update_asset(
            session,
            asset_id=asset_id,
            data=assets.AssetUpdate(title="Markt in Brugge"),
            actor=admin,
        )
    seconds = wait_for(lambda: found(service, "markt ") == [asset_id])
    assert seconds < SEARCHABLE_WITHIN_S
    assert found(service, "graslei ") == []


def test_deletion_leaves_the_index_before_delete_returns(
    rt: Runtime, service: SearchService, admin: User
) -> None:
    keep = make_asset(rt, "Gentse Feesten")
    gone = make_asset(rt, "Gentse Feesten, tweede dag")
    assert service.sync.flush()
    assert found(service, "feesten ") == sorted([keep, gone])
    with rt.session() as session:
        assets.delete_asset(session, asset_id=gone, actor=admin, blobs=rt.blobs)
    assert found(service, "feesten ") == [keep]  # no waiting


def test_an_empty_index_fills_itself_from_the_database(rt: Runtime, service: SearchService) -> None:
    ids = sorted(make_asset(rt, f"Zomer in Gent {n}", announce=False) for n in range(3))
    assert found(service, "zomer ") == []
    assert service.sync.flush()  # the first writer finds the index empty: indexes everything
    assert found(service, "zomer ") == ids


def test_check_reports_missing_stale_and_left_over_documents(
    rt: Runtime, service: SearchService
) -> None:
    first = make_asset(rt, "Graslei")
    second = make_asset(rt, "Korenlei")
    third = make_asset(rt, "Vrijdagmarkt")
    assert service.sync.flush()
    assert check_index(service).problems == []
    missing = make_asset(rt, "Sint-Baafs", announce=False)
    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE asset SET title = 'Belfort' WHERE id = :id"), {"id": first})
        conn.execute(text("DELETE FROM asset WHERE id = :id"), {"id": third})
    report = check_index(service)
    assert (report.missing, report.stale, report.orphaned) == ([missing], [first], [third])
    assert report.checked == 3
    assert len(report.problems) == 3
    written = rebuild(service)
    assert written == 3
    assert check_index(service).problems == []
    assert found(service, "belfort ") == [first]
    assert second in found(service, "korenlei ")


def test_marks_from_another_process_reach_the_writer(rt: Runtime, service: SearchService) -> None:
    service.sync.start()
    assert service.sync.flush()  # this "process" holds the writer lease now

    def no_writer() -> TantivyBackend:
        raise AssertionError("a process without the lease must not open the index")

    worker = IndexSync(
        engine=rt.engine,
        sessions=rt.session,
        backend=no_writer,
        zone="Europe/Brussels",
        gather_s=0,
    )
    try:
        asset_id = make_asset(rt, "Wandelaars in het Citadelpark", announce=False)
        worker.mark([asset_id])  # a worker elsewhere processed the asset
        seconds = wait_for(lambda: found(service, "citadelpark ") == [asset_id])
        assert seconds < SEARCHABLE_WITHIN_S
    finally:
        worker.close()


def test_reindex_takes_the_writer_over_and_hands_it_back(
    rt: Runtime, service: SearchService
) -> None:
    make_asset(rt, "Graslei")
    service.sync.start()
    assert service.sync.flush()
    # `dam reindex` in another process: its own service on the same index directory.
    other = SearchService(rt)
    try:
        assert rebuild(other) == 1
    finally:
        other.close()  # gives the lease up
    later = make_asset(rt, "Korenlei")
    assert wait_for(lambda: found(service, "korenlei ") == [later]) < 3.0


def test_a_writer_that_stops_renewing_is_replaced(
    rt: Runtime, service: SearchService, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    assert service.sync.flush()
    holder = lease.current(rt.engine)
    assert holder is not None and holder.holder == service.sync.holder
    other = IndexSync(
        engine=rt.engine,
        sessions=rt.session,
        backend=lambda: TantivyBackend(rt.settings.data_dir / "elsewhere"),
        zone="Europe/Brussels",
        gather_s=0,
    )
    try:
        asset_id = make_asset(rt, "Belfort", announce=False)
        other.mark([asset_id])
        assert other.flush([asset_id], timeout=0.3) is False  # the lease is taken
        later = now() + timedelta(seconds=LEASE_TTL_S + 1)
        monkeypatch.setattr("search.lease.now", lambda: later)  # the holder went silent
        assert other.flush([asset_id], timeout=3) is True
        current = lease.current(rt.engine)
        assert current is not None and current.holder == other.holder
    finally:
        other.close()


@pytest.fixture
def two_services(rt: Runtime) -> Iterator[tuple[SearchService, SearchService]]:
    second = SearchService(rt)
    yield service_for(rt), second
    second.close()


def test_only_one_process_writes_at_a_time(
    rt: Runtime, two_services: tuple[SearchService, SearchService]
) -> None:
    first, second = two_services
    asset_id = make_asset(rt, "Vrijdagmarkt", announce=False)
    first.sync.mark([asset_id])
    second.sync.mark([asset_id])
    assert first.sync.flush([asset_id])
    assert second.sync.flush([asset_id])
    # Both ended up with the one document, written once by whichever held the lease.
    assert found(first, "vrijdagmarkt ") == [asset_id]
    assert found(second, "vrijdagmarkt ") == [asset_id]


def test_an_erased_person_leaves_search_before_the_erasure_returns(
    rt: Runtime, service: SearchService
) -> None:
    asset_id = make_asset(rt, "Opening van de bibliotheek")
    person = {"id": "p7", "name": "Jan Peeters", "erased": False}
    rt.wiring.extend(facts.FACTS, "test-people", lambda _s, ids: {asset_id: {"people": [person]}})
    try:
        service.sync.mark([asset_id])
        assert service.sync.flush()
        assert found(service, "peeters ") == [asset_id]
        with rt.unit_of_work() as session:  # what the erasure commits
            person["erased"] = True
            changes.record(session, assets=[asset_id], urgency=changes.PURGE)
        assert found(service, "peeters ") == []  # no waiting
        assert found(service, "bibliotheek ") == [asset_id]
    finally:
        rt.wiring.withdraw(facts.FACTS, "test-people")


def test_a_purge_leaves_no_older_copy_of_a_document_still_waiting(
    rt: Runtime, service: SearchService
) -> None:
    # A document the writer has not caught up with yet may still show what the database
    # no longer holds (a name): the purge writes it from the database too, and empties
    # the segment of its older copy.
    erased = make_asset(rt, "Opening van de bibliotheek")
    # With neighbours in its segment, which the drain after the purge would keep.
    titles = [*(f"Korenlei {n}" for n in range(20)), "Graslei", *(f"Kouter {n}" for n in range(20))]
    ids = [make_asset(rt, t, tags=("zyxwvut qprstoñ",) if t == "Graslei" else ()) for t in titles]
    waiting = ids[20]  # its tag is kept verbatim in the index's files
    assert service.sync.flush()
    rebuild(service)  # one commit: at most two segments (two indexing threads)
    backend = service.backend()
    assert isinstance(backend, TantivyBackend)

    def holding() -> list[str]:
        files = [p for p in backend.path.iterdir() if p.is_file()]
        return [p.name for p in files if b"zyxwvut" in p.read_bytes().lower()]

    with service.sync._lock:  # the writer thread does not drain the mark first
        with rt.engine.begin() as conn:
            conn.execute(text("DELETE FROM asset_tag WHERE asset_id = :id"), {"id": waiting})
        dirty.mark(rt.engine, [waiting])  # what the change feed would have done
        assert holding()
        service.sync.purge([erased])
    assert found(service, "graslei ") == [waiting]
    assert found(service, "zyxwvut ") == []
    assert holding() == []
