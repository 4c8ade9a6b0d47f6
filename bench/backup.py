"""Backup and restore times for a generated library.

    .venv/bin/python bench/backup.py [--assets 10000] [--kb 32] [--database sqlite|postgresql|both]

1. A fresh database filled as bench/withdrawal.py fills it (N ready assets with faces of
   2,000 people and consents), each asset given a real original of `--kb` kilobytes of
   random bytes and two derived files (a quarter and an eighth of that).
2. A full `dam backup` into an empty backup directory; then 1% more assets and one
   rendition rewritten per 100 assets, and a second (incremental) backup.
3. `dam restore` of the newest snapshot into an empty data dir and database (hashes,
   audit chain, ledger, search index rebuilt).

Wall time, CPU seconds (user+sys of this process and its children: pg_dump, pg_restore)
and the load average are printed for each step: the machine is shared, so wall times
alone say little. Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

from scratch import PG_URL, scratch_runtime  # noqa: E402
from sqlalchemy import create_engine, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from withdrawal import fill  # noqa: E402

from dam import backup, clock, db_dump  # noqa: E402
from dam.models import Asset  # noqa: E402
from dam.restore import restore  # noqa: E402
from dam.runtime import Runtime  # noqa: E402
from dam.settings import load_settings  # noqa: E402
from search.service import service_for  # noqa: E402


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(label: str, work: Callable[[], Any]) -> Any:
    wall, used = time.perf_counter(), cpu()
    result = work()
    wall, used = time.perf_counter() - wall, cpu() - used
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  {label:<24} {wall:8.1f} s wall  {used:8.1f} s CPU   load {load}")
    return result


def give_files(rt: Runtime, asset_ids: list[str], kb: int) -> int:
    """A real original and two derived files for each asset; bytes written."""
    written = 0
    rows = []
    for asset_id in asset_ids:
        stored = rt.blobs.put_stream([secrets.token_bytes(kb * 1024)])
        rows.append({"id": asset_id, "sha256": stored.sha256, "size": stored.size})
        folder = rt.blobs.derived_dir(asset_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "thumb.webp").write_bytes(secrets.token_bytes(kb * 128))
        (folder / "preview.webp").write_bytes(secrets.token_bytes(kb * 256))
        written += stored.size + kb * 384
    with rt.unit_of_work(drain=False) as session:
        session.execute(update(Asset), rows)
    return written


def more_assets(rt: Runtime, count: int, kb: int) -> None:
    """`count` copies of existing asset rows with new files (an upload's share of a day)."""
    with rt.session() as session:
        template = session.execute(select(Asset).limit(1)).scalars().one()
        fresh = []
        for _ in range(count):
            data = template.model_dump()
            data.pop("id")
            data["sha256"] = secrets.token_hex(32)
            fresh.append(Asset(**data))
        session.add_all(fresh)
        session.commit()
        ids = [a.id for a in fresh]
    give_files(rt, ids, kb)


def target_settings(rt: Runtime, tmp: Path) -> tuple[Any, Callable[[], None]]:
    if rt.engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp / 'restored' / 'beeldbank.db'}"
        return load_settings(
            data_dir=tmp / "restored", database_url=url, queue_url="immediate://"
        ), lambda: None
    schema = db_dump.current_schema(rt.engine)
    database = f"bench_restore_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    base = make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
    url = f"{base}?options=-csearch_path%3D{schema}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()

    return load_settings(
        data_dir=tmp / "restored", database_url=url, queue_url="immediate://"
    ), drop


# fill() writes enum columns as plain strings; copying such a row warns about it.
warnings.filterwarnings("ignore", message="Pydantic serializer warnings")


def run(database: str, n_assets: int, kb: int) -> None:
    print(f"{database}: {n_assets:,} assets, originals of {kb} kB, 2 derived files each")
    with scratch_runtime(database) as rt, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        measure("generate", lambda: fill(rt, n_assets, 20, clock.now()))
        with rt.session() as session:
            ids = [str(i) for i in session.execute(select(Asset.id)).scalars()]
        size = measure("write files", lambda: give_files(rt, ids, kb))
        print(f"  {size / 1024**2:,.0f} MB of files")
        # The index writer's thread would otherwise count in the backup's CPU time.
        measure("index", lambda: service_for(rt).sync.flush(timeout=900))
        dest = tmp / "backups"

        def take() -> backup.BackupReport:
            return backup.make_backup(
                settings=rt.settings,
                engine=rt.engine,
                dest=dest,
                key_ids=backup.embedding_keys(rt.engine),
            )

        full = measure("full backup", take)
        print(f"    {full.files:,} files, {full.copied:,} copied")
        measure("add 1% more assets", lambda: more_assets(rt, max(1, n_assets // 100), kb))
        service_for(rt).sync.flush(timeout=900)
        for asset_id in ids[::100]:
            (rt.blobs.derived_dir(asset_id) / "thumb.webp").write_bytes(
                secrets.token_bytes(kb * 128)
            )
        incremental = measure("incremental backup", take)
        print(
            f"    {incremental.files:,} files, {incremental.copied:,} copied "
            f"({incremental.copied_bytes / 1024**2:,.1f} MB)"
        )
        settings, drop = target_settings(rt, tmp)
        try:
            report = measure("restore", lambda: restore(settings, incremental.snapshot))
            print(
                f"    {report.files:,} files checked, {report.audit_entries} audit entries, "
                f"rebuilt: {', '.join(report.rebuilt)}"
            )
        finally:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--kb", type=int, default=32)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    for database in ("sqlite", "postgresql") if args.database == "both" else [args.database]:
        run(database, args.assets, args.kb)


if __name__ == "__main__":
    main()
