"""The change feed (SQLite and PostgreSQL): what each change records in its own
transaction, one drain per upload judging and marking once, several drainers sharing the
feed, and the bulk "add to collection" reaching the search facet within a second."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session, col

from dam import assets, changes, clock, collections, doctor, migrate
from dam.changes import FEED, ChangeBatch, ChangeFeed
from dam.models import Face, FaceState, Role, User
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from gdpr.consent.consents import ConsentInput, record_consent
from gdpr.judgement import verdicts
from gdpr.recognition import people
from search import dirty
from search.query import Access, Filters, SearchRequest, parse_query
from search.service import service_for
from tests import media
from tests.conftest import Account
from tests.feed_factories import SEARCHABLE_WITHIN_S, make_asset, make_face, make_user


@pytest.fixture
def admin(rt: Runtime) -> User:
    return make_user(rt, Role.admin)


def recorded(rt: Runtime, change: Callable[[Session], object]) -> set[tuple[str, str, int]]:
    """What `change` recorded, run in a plain session (no drainer kicked: rows stay)."""
    with rt.session() as session:
        session.info.pop(changes.FEED_KEY)  # no drainer: the rows stay
        # Nor jobs run by the inline queue (a merge schedules suggestions), whose end
        # drains the feed too.
        session.info.pop("queue")
        change(session)
        session.commit()
    with rt.engine.begin() as conn:
        rows = conn.execute(select(FEED.c.kind, FEED.c.subject_id, FEED.c.urgency)).all()
        conn.execute(delete(FEED))
    return {(kind, subject, urgency) for kind, subject, urgency in rows}


def test_each_change_records_what_it_affects_in_its_own_transaction(
    rt: Runtime, admin: User
) -> None:
    photo, other = make_asset(rt, "Graslei"), make_asset(rt, "Korenlei")
    with rt.unit_of_work() as session:
        cid = collections.create_collection(
            session, data=collections.CollectionCreate(title="Brugge"), owner=admin
        ).id
        jan = people.create_person(session, data=people.PersonCreate(name="Jan"), actor=admin).id
        piet = people.create_person(session, data=people.PersonCreate(name="Piet"), actor=admin).id
    face = make_face(rt, photo, state=FaceState.confirmed, person_id=piet)
    rt.changes.drain()

    def edit(session: Session) -> None:
        data = assets.AssetUpdate(title="Markt", tags=["brugge"])
        assets.update_asset(session, asset_id=photo, data=data, actor=admin)

    assert recorded(rt, edit) == {("asset", photo, 0)}
    # The bulk "Aan collectie toevoegen" that used to publish nothing.
    add = lambda s: collections.add_assets(  # noqa: E731
        s, collection_id=cid, asset_ids=[photo, other], actor=admin
    )
    assert recorded(rt, add) == {("asset", photo, 0), ("asset", other, 0)}
    remove = lambda s: collections.remove_assets(  # noqa: E731 (a bulk DELETE)
        s, collection_id=cid, asset_ids=[other], actor=admin
    )
    assert recorded(rt, remove) == {("asset", other, 0)}
    rename = lambda s: collections.update_collection(  # noqa: E731
        s, collection_id=cid, data=collections.CollectionUpdate(title="Gent"), actor=admin
    )
    assert recorded(rt, rename) == {("collection", cid, 0)}
    hide = lambda s: people.update_person(  # noqa: E731
        s, person_id=piet, data=people.PersonUpdate(hidden=True), actor=admin
    )
    assert recorded(rt, hide) == {("person", piet, 0)}
    consent = lambda s: record_consent(  # noqa: E731
        s,
        person_id=jan,
        data=ConsentInput(channels=["internal"], granted_at="2026-01-01"),  # type: ignore[arg-type]
        actor=admin,
        settings=rt.settings,
    )
    assert recorded(rt, consent) == {("person", jan, 0)}
    # A merge moves faces with one bulk UPDATE; the person it removes had no faces left.
    merge = lambda s: people.merge_people(s, person_id=jan, other_id=piet, actor=admin)  # noqa: E731
    assert recorded(rt, merge) == {("asset", photo, 0), ("person", jan, 0)}
    # What neither a verdict nor a document reads records nothing.
    cluster = lambda s: s.exec(update(Face).where(col(Face.id) == face).values(cluster_id=face))  # noqa: E731
    assert recorded(rt, cluster) == set()
    assert recorded(rt, lambda s: _set(s, photo, blurhash="LEHV6nWB2yk8")) == set()
    gone = lambda s: collections.delete_collection(s, collection_id=cid, actor=admin)  # noqa: E731
    assert {subject for _, subject, _ in recorded(rt, gone)} == {photo}
    delete_photo = lambda s: assets.delete_asset(  # noqa: E731
        s, asset_id=photo, actor=admin, blobs=rt.blobs
    )
    assert ("asset", photo, changes.REMOVE) in recorded(rt, delete_photo)


def _set(session: Session, asset_id: str, **values: object) -> None:
    asset = assets.get_asset(session, asset_id)
    for name, value in values.items():
        setattr(asset, name, value)
    session.add(asset)


def test_a_rolled_back_change_records_nothing(rt: Runtime, admin: User) -> None:
    photo = make_asset(rt, "Graslei")
    rt.changes.drain()
    with Session(rt.engine) as session:
        _set(session, photo, title="Markt")
        session.flush()
        assert session.connection().execute(select(FEED.c.id)).first() is not None
        session.rollback()
    with rt.engine.connect() as conn:
        assert conn.execute(select(FEED.c.id)).first() is None


def test_one_upload_is_judged_and_marked_once(
    client: TestClient, rt: Runtime, creative: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged: Counter[str] = Counter()
    marked: Counter[str] = Counter()
    drains: list[ChangeBatch] = []
    refresh, mark_in = verdicts.refresh, dirty.mark_in

    def counting_refresh(session: Session, ids: list[str], **kw: object) -> int:
        judged.update(ids)
        return refresh(session, ids, **kw)  # type: ignore[arg-type]

    def counting_mark(conn: object, ids: list[str]) -> None:
        marked.update(ids)
        mark_in(conn, ids)  # type: ignore[arg-type]

    monkeypatch.setattr(verdicts, "refresh", counting_refresh)
    monkeypatch.setattr(dirty, "mark_in", counting_mark)
    monkeypatch.setattr(rt.changes, "_settle", lambda batch: drains.append(batch))
    # The periodic sweep judges assets that have no verdict yet: run during the upload (a
    # loaded CI machine, once), it judged this one a second time. What is counted here
    # is the change feed's work.
    monkeypatch.setattr(verdicts, "refresh_due", lambda *args, **kwargs: 0)
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("a.jpg", media.jpeg(seed=31), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    asset_id = response.json()["id"]
    # Stored, probed, renditions, faces, identity, ready: several commits, one drain
    # (the inline queue runs the whole pipeline inside the upload's commit).
    assert [asset_id in b.assets for b in drains] == [True]
    assert judged[asset_id] == 1
    assert marked[asset_id] == 1


def test_several_drainers_share_the_feed(rt: Runtime) -> None:
    """Each row is handled by exactly one of two drainers draining at the same time."""
    handled: list[str] = []
    lock = threading.Lock()

    class Slow:
        def apply(self, session: Session, batch: ChangeBatch) -> None:
            time.sleep(0.05)  # long enough for the other drainer to try the same rows
            with lock:
                handled.extend(batch.assets)

        def settle(self, batch: ChangeBatch) -> None:
            pass

    ids = [f"a{n:04d}" for n in range(3 * changes.BATCH)]
    with rt.unit_of_work() as session:
        session.info.pop(changes.FEED_KEY)  # leave the rows to the two drainers below
        changes.record(session, assets=ids)
    feeds = [ChangeFeed(rt, [("slow", Slow())]) for _ in range(2)]
    threads = [threading.Thread(target=feed.drain) for feed in feeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(handled) == ids


def test_whoever_committed_a_change_waits_for_the_drainer_that_claimed_it(rt: Runtime) -> None:
    """Read your writes: when another drainer (the poller, another process) claimed the
    rows a commit wrote, the committer's kick returns only once that drainer committed."""
    finished: list[str] = []
    claimed = threading.Event()

    class Slow:
        def apply(self, session: Session, batch: ChangeBatch) -> None:
            claimed.set()
            time.sleep(0.4)  # the poller is still busy with the rows
            finished.append("poller")

        def settle(self, batch: ChangeBatch) -> None:
            pass

    with rt.unit_of_work() as session:
        session.info.pop(changes.FEED_KEY)  # nobody drains at commit: the poller will
        changes.record(session, assets=["a0001", "a0002"])
    with rt.engine.connect() as connection:
        low, high = connection.execute(select(func.min(FEED.c.id), func.max(FEED.c.id))).one()
    poller = threading.Thread(target=ChangeFeed(rt, [("slow", Slow())], poll=False).drain)
    poller.start()
    assert claimed.wait(10)
    mine = ChangeFeed(rt, [("slow", Slow())], poll=False)
    mine.kick(recorded=(low, high))
    finished.append("committer")
    poller.join()
    assert finished == ["poller", "committer"]
    assert rt.changes.backlog() == 0


@pytest.fixture
def threaded_rt(settings_factory: Callable[..., Settings]) -> Iterator[Runtime]:
    """A runtime whose drainer and index writer are threads, as in `dam serve`."""
    runtime = build_runtime(settings_factory(queue_url=None))
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


def test_adding_to_a_collection_updates_the_facet_within_a_second(threaded_rt: Runtime) -> None:
    rt = threaded_rt
    admin = make_user(rt)
    photo = make_asset(rt, "Belfort")
    with rt.session() as session:
        cid = collections.create_collection(
            session, data=collections.CollectionCreate(title="Brugge"), owner=admin
        ).id
    backend = service_for(rt).backend()

    def in_brugge() -> list[str]:
        request = SearchRequest(
            query=parse_query(""), filters=Filters(collections=("Brugge",)), access=Access()
        )
        return [hit.id for hit in backend.search(request).hits]

    def facet() -> dict[str, int]:
        result = backend.search(SearchRequest(query=parse_query(""), access=Access()))
        return dict(result.facets.get("collections", {}))

    deadline = time.monotonic() + 5
    while not service_for(rt).sync.flush([photo]) or photo not in _all(rt):
        assert time.monotonic() < deadline, "the new asset never reached the index"
    assert in_brugge() == []
    with rt.session() as session:  # the library's bulk "Aan collectie toevoegen"
        collections.add_assets(session, collection_id=cid, asset_ids=[photo], actor=admin)
    started = time.monotonic()
    while in_brugge() != [photo]:
        assert time.monotonic() - started < SEARCHABLE_WITHIN_S, f"facet still {facet()}"
        time.sleep(0.02)
    assert facet() == {"Brugge": 1}


def _all(rt: Runtime) -> list[str]:
    request = SearchRequest(query=parse_query(""), access=Access(True, True), per_page=100)
    return [hit.id for hit in service_for(rt).backend().search(request).hits]


def test_a_change_left_waiting_is_reported_by_doctor_and_warned_about(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    assert rt.changes.lag() == (0, None)
    rt.changes.warn_if_behind()
    assert "change feed" not in caplog.text
    # A row a failing step left behind, recorded long ago.
    long_ago = clock.now() - timedelta(seconds=changes.BACKLOG_WARNING_S + 60)
    with rt.engine.begin() as connection:
        connection.execute(
            insert(FEED).values(kind="asset", subject_id="a" * 32, urgency=0, recorded_at=long_ago)
        )
    count, oldest = rt.changes.lag()
    assert count == 1 and oldest is not None and abs(oldest - long_ago) < timedelta(seconds=1)
    with caplog.at_level(logging.WARNING, logger="dam.changes"):
        rt.changes.warn_if_behind()
    assert "1 change(s) wait on the change feed" in caplog.text
    found = {f.name: f for f in doctor.run_checks(rt)}["change feed"]
    assert found.state == "ok" and found.detail.startswith("1 change(s) waiting, the oldest since")
