"""`dam backup` and `dam restore` on real databases and real photos: incremental blobs,
hashes checked, migrations run, the index rebuilt, and erasures made after the backup
applied again before anything serves (the restored data dir holds the name nowhere)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from dam import audit, backup, db_dump, erasure_ledger, migrate
from dam.biometrics import face_key
from dam.check import check_originals
from dam.db import make_engine
from dam.models import Person, Role
from dam.restore import RestoreError, reapply_ledger, restore
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings, get_settings, load_settings
from tests.conftest import PG_URL, Account
from tests.db_templates import schema_url
from tests.gdpr.requests.test_erasure import erase, leftovers
from tests.privacy_setup import NAME, build_subject, found
from tests.test_cli import cli_env, dam  # noqa: F401 (a fixture)

FACE_KEY = base64.b64encode(b"k" * 32).decode()


@pytest.fixture(scope="session")
def restore_databases() -> Iterator[list[str]]:
    """The PostgreSQL databases the tests restored into, dropped once at the end: dropping
    a database makes the server write a checkpoint, which took 40 s per test while the
    other workers' tests were writing."""
    databases: list[str] = []
    yield databases
    if databases:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for database in databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture
def empty_target(
    tmp_path: Path, database_url: str, restore_databases: list[str]
) -> Callable[[str, Runtime], Settings]:
    """Settings for an empty data dir and an empty database of the same kind as the
    test's; on PostgreSQL a new database whose search path names the source's schema."""

    def make(name: str, source: Runtime) -> Settings:
        data_dir = tmp_path / name
        if database_url.startswith("sqlite"):
            url = f"sqlite:///{data_dir / 'beeldbank.db'}"
        else:
            schema = db_dump.current_schema(source.engine)
            database = f"restore_{secrets.token_hex(5)}"
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{database}"')
            restore_databases.append(database)
            base = make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
            url = schema_url(base, schema)
        return load_settings(
            data_dir=data_dir,
            database_url=url,
            queue_url="immediate://",
            face_key=source.settings.face_key,
        )

    return make


def take_backup(rt: Runtime, dest: Path) -> backup.BackupReport:
    return backup.make_backup(
        settings=rt.settings, engine=rt.engine, dest=dest, key_ids=backup.embedding_keys(rt.engine)
    )


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    # A key of its own: the test looks for its bytes in the backup.
    return settings_factory(face_key=FACE_KEY)


def test_restore_of_an_older_backup_erases_again(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    empty_target: Callable[[str, Runtime], Settings],
    tmp_path: Path,
) -> None:
    subject = build_subject(client, rt, make_account)
    dest = tmp_path / "backups"

    first = take_backup(rt, dest)
    assert 0 < first.copied <= first.files  # equal contents are stored once
    second = take_backup(rt, dest)
    # Nothing changed: the second backup copies no file again, yet lists them all.
    assert (second.files, second.copied, second.copied_bytes) == (first.files, 0, 0)
    manifest = backup.read_manifest(first.snapshot)
    assert manifest["face_key"] == {
        "included": False,
        "key_ids": {face_key(rt.settings).key_id: len(subject.face_ids) + 1},
    }
    assert any("DAM_FACE_KEY" in note for note in first.notes)
    # The key itself is nowhere in the backup; nor is the search index.
    key = face_key(rt.settings).key
    for path in files_under(dest):
        data = path.read_bytes()
        assert key not in data and FACE_KEY.encode() not in data, path
    assert not [p for p in manifest["files"] if p.startswith("search")]

    summary = erase(client, rt, subject, "delete")
    ledger = rt.settings.erasure_ledger_path.read_text()
    assert subject.person_id in ledger and summary["tombstone_id"] in ledger
    assert not any(word.lower() in ledger.lower() for word in NAME.split())

    # Without the ledger the older backup brings the person back (the test can fail).
    # (and restored with another face key, of which it warns).
    other_key = base64.b64encode(b"o" * 32).decode()
    unsafe = empty_target("unsafe", rt).model_copy(update={"face_key": other_key})
    unsafe_report = restore(unsafe, first.snapshot)
    assert any("DAM_FACE_KEY here has" in note for note in unsafe_report.notes)
    again = build_runtime(unsafe)
    try:
        with again.session() as session:
            assert session.get(Person, subject.person_id) is not None
        assert found(again, NAME.split()[0]) != []
        # Such a database is what `dam serve` looks for first: with the ledger at hand, it
        # erases them again before it serves (once; a second start finds nothing to do).
        unsafe.erasure_ledger_path.write_text(ledger)
        assert reapply_ledger(again) == [subject.person_id]
        assert reapply_ledger(again) == []
        assert found(again, NAME.split()[0]) == []
    finally:
        again.close()

    # The ledger kept beside the data dir (a restore does not overwrite it) is applied.
    target = empty_target("restored", rt)
    target.data_dir.mkdir()
    target.erasure_ledger_path.write_text(ledger)
    report = restore(target, first.snapshot)
    assert report.erased_again == [subject.person_id]
    assert report.files == first.files and report.rebuilt == ["search"]
    assert report.audit_entries > 0 and not report.migrated
    restored = build_runtime(target)
    try:
        assert leftovers(restored, subject) == []
        assert found(restored, "simm") == [subject.other_photo_id]
        with restored.session() as session:
            assert audit.verify(session).ok
            assert check_originals(session, restored.blobs).problems == []
            assert session.exec(select(Person).where(Person.id == subject.person_id)).all() == []
        # The ledger now also holds the erasure done again, still without a name.
        entries = erasure_ledger.read(target.erasure_ledger_path)
        assert {e.person_id for e in entries} == {subject.person_id} and len(entries) == 2
    finally:
        restored.close()

    # A later backup mirrors the ledger: restoring the first snapshot from that backup
    # directory into a bare data dir erases the person again too.
    take_backup(rt, dest)
    bare = empty_target("bare", rt)
    assert restore(bare, first.snapshot).erased_again == [subject.person_id]


def test_restore_checks_hashes_emptiness_and_migrates(tmp_path: Path) -> None:
    source = load_settings(data_dir=tmp_path / "old", queue_url="immediate://")
    source.data_dir.mkdir()
    engine = make_engine(source.resolved_database_url)
    migrate.upgrade(engine, "0012")  # a backup made by an older Beeldbank
    blob = build_runtime(source)
    try:
        stored = blob.blobs.put_stream([b"an original"])
        derived = blob.blobs.derived_dir("a1") / "thumb.webp"
        derived.parent.mkdir(parents=True)
        derived.write_bytes(b"a rendition")
        dest = tmp_path / "backups"
        made = backup.make_backup(settings=source, engine=engine, dest=dest, key_ids={})
        assert made.files == 2
        derived.write_bytes(b"another rendition")
        again = backup.make_backup(settings=source, engine=engine, dest=dest, key_ids={})
        assert (again.files, again.copied) == (2, 1)  # only the changed file
        # An original that does not match its name is refused, and leaves no snapshot.
        fake = blob.blobs.original_path("ab" * 32)
        fake.parent.mkdir(parents=True)
        fake.write_bytes(b"not what its name says")
        with pytest.raises(backup.BackupError, match="is damaged"):
            backup.make_backup(settings=source, engine=engine, dest=dest, key_ids={})
        assert backup.snapshots(dest) == [made.snapshot, again.snapshot]
        assert not list((dest / "snapshots").glob(".*partial"))
        fake.unlink()
    finally:
        blob.close()
        engine.dispose()

    occupied = load_settings(data_dir=tmp_path / "occupied", queue_url="immediate://")
    (occupied.data_dir / "originals" / "x").mkdir(parents=True)
    (occupied.data_dir / "originals" / "x" / "y").write_bytes(b"")
    with pytest.raises(RestoreError, match="not empty"):
        restore(occupied, dest)

    target = load_settings(data_dir=tmp_path / "new", queue_url="immediate://")
    report = restore(target, made.snapshot)
    assert report.migrated and report.migrated_from == ["0012"]
    engine = make_engine(target.resolved_database_url)
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert revision != "0012"
    finally:
        engine.dispose()
    assert (target.data_dir / "originals" / stored.sha256[:2]).is_dir()
    assert (target.data_dir / "derived" / "a1" / "thumb.webp").read_bytes() == b"a rendition"

    # A damaged blob in the backup: nothing is restored.
    (backup.blob_path(dest, stored.sha256)).chmod(0o644)
    backup.blob_path(dest, stored.sha256).write_bytes(b"an 0riginal")
    damaged = load_settings(data_dir=tmp_path / "damaged", queue_url="immediate://")
    with pytest.raises(RestoreError, match="do not match their hash"):
        restore(damaged, made.snapshot)
    assert files_under(damaged.data_dir / "originals") == []
    # A manifest edited by hand is refused.
    manifest = made.snapshot / backup.MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "files": {}}))
    with pytest.raises(backup.BackupError, match="does not match its hash"):
        restore(
            load_settings(data_dir=tmp_path / "edited", queue_url="immediate://"), made.snapshot
        )


@pytest.mark.usefixtures("cli_env")
def test_the_cli_backs_up_and_restores(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    empty_target: Callable[[str, Runtime], Settings],
) -> None:
    added = dam("user", "add", "--email", "a@example.test", "--role", "admin",
                "--password-stdin", stdin="correct horse battery\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    made = dam("backup", str(tmp_path / "backups"))
    assert made.exit_code == 0, made.output
    assert "(DAM_FACE_KEY) is not in this backup" in made.output
    again = dam("restore", str(tmp_path / "backups"))
    assert again.exit_code == 1 and "not empty" in again.output
    source = build_runtime(get_settings())
    try:
        target = empty_target("elsewhere", source)
    finally:
        source.close()
    monkeypatch.setenv("DAM_DATA_DIR", str(target.data_dir))
    monkeypatch.setenv("DAM_DATABASE_URL", target.resolved_database_url)
    get_settings.cache_clear()
    restored = dam("restore", str(tmp_path / "backups"))
    assert restored.exit_code == 0, restored.output
    assert "audit log intact" in restored.output and "rebuilt: search" in restored.output
    verified = dam("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "Audit log intact" in verified.output


def test_a_backup_taken_while_writes_go_on_is_consistent(
    rt: Runtime, empty_target: Callable[[str, Runtime], Settings], tmp_path: Path
) -> None:
    """A writer appends to the audit chain the whole time: the copy holds a prefix of it
    whose head matches its entries (a torn copy breaks the chain's verification)."""
    stop = threading.Event()
    written = 0

    def write() -> None:
        nonlocal written
        while not stop.is_set():
            with rt.unit_of_work() as session:
                audit.record(session, action="test.tick", details={"n": written})
            written += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while written < 20:
            time.sleep(0.01)
        made = take_backup(rt, tmp_path / "backups")
        during = written
        while written < during + 20:  # writes went on after the copy
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    target = empty_target("restored", rt)
    report = restore(target, made.snapshot)
    assert 20 <= report.audit_entries < written
    restored = build_runtime(target)
    try:
        with restored.session() as session:
            assert audit.verify(session).ok
    finally:
        restored.close()
