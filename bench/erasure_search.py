"""Erasure and the search index: what forgetting one person costs as the library grows.

    .venv/bin/python bench/erasure_search.py [--assets 20000] [--on 20]
        [--database sqlite|postgresql|both] [--rebuild] [--spread]

1. A fresh database (as bench/withdrawal.py fills it: N ready assets, one person confirmed
   on `--on` of them, the others showing one of 2,000 other people) indexed in the
   embedded Tantivy index; with `--rebuild` the index is then rebuilt (`dam reindex`), so
   that one or two large segments hold every document, the worst case for a purge. The
   person is on the first `--on` assets, or with `--spread` on assets spread evenly over
   the library (so in every segment: the purge then rewrites all of them).
2. The person is erased (gdpr.requests.erasure.erase_person, their pictures deleted), which
   returns once search has forgotten them: the time of that call and of the index purge
   in it, and of the search subscriber alone (run once more on the same assets), are
   printed, with the index's segments before and after and whether any index file still
   holds the name; then, for comparison, what an erasure did before: a full rebuild.

Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the packages: bench/search.py

from scratch import scratch_runtime  # noqa: E402
from sqlalchemy import select  # noqa: E402
from withdrawal import fill  # noqa: E402

from dam import auth, clock  # noqa: E402
from dam.models import Face, Role  # noqa: E402
from gdpr.requests.erasure import AssetsChoice, erase_person  # noqa: E402
from search.maintenance import rebuild, rebuild_index  # noqa: E402
from search.service import service_for  # noqa: E402
from search.sync import IndexSync  # noqa: E402

# The erased person's first name ("Bench Person"): a term dictionary shares prefixes, so
# the two words seldom stand side by side in the files; "person" is in field names.
NAME = b"bench"
# (seconds, CPU seconds of the whole process, documents written) of each purge. The CPU
# time (every thread: Tantivy indexes on its own) says more than the seconds on a
# machine that others share.
purges: list[tuple[float, float, int]] = []


def timed_purge(purge):  # type: ignore[no-untyped-def]
    def run(self, asset_ids):  # type: ignore[no-untyped-def]
        t, cpu = time.perf_counter(), time.process_time()
        written = purge(self, asset_ids)
        purges.append((time.perf_counter() - t, time.process_time() - cpu, written))
        return written

    return run


IndexSync.purge = timed_purge(IndexSync.purge)  # type: ignore[method-assign]


def index_files_holding_name(index_dir: Path) -> list[str]:
    return [p.name for p in index_dir.rglob("*") if p.is_file() and NAME in p.read_bytes().lower()]


def segments(rt: object) -> str:
    backend = service_for(rt).backend()  # type: ignore[arg-type]
    searcher = backend.index.searcher()  # type: ignore[attr-defined]
    return f"{searcher.num_docs:,} documents in {searcher.num_segments} segment(s)"


def run(database: str, n_assets: int, n_on: int, rebuild_first: bool, spread: bool) -> None:
    with scratch_runtime(database) as rt:
        settings = rt.settings
        star_id, _ = fill(rt, n_assets, n_on, clock.now(), spread=spread)
        service = service_for(rt)
        t = time.perf_counter()
        assert service.sync.flush(timeout=600)
        indexed = time.perf_counter() - t
        if rebuild_first:
            t = time.perf_counter()
            rebuild(service)
            indexed = time.perf_counter() - t
        with rt.session() as session:
            on = list(
                session.execute(select(Face.asset_id).where(Face.person_id == star_id))
                .scalars()
                .all()
            )
        with rt.unit_of_work() as session:
            officer = auth.create_user(
                session,
                email="po@bench.local",
                password=secrets.token_urlsafe(16),
                role=Role.privacy_officer,
            )
        index_dir = settings.data_dir / "search"
        print(
            f"[{database}] {n_assets:,} assets, person on {len(on)}: "
            f"{'rebuilt' if rebuild_first else 'indexed'} in {indexed:.1f} s, "
            f"{segments(rt)}; files with the name: {len(index_files_holding_name(index_dir))}"
        )
        with rt.session() as session:  # its change feed purges before the erasure returns
            actor = session.get(type(officer), officer.id)
            assert actor is not None
            t = time.perf_counter()
            erase_person(
                session,
                person_id=star_id,
                assets=AssetsChoice.delete,
                actor=actor,
                blobs=rt.blobs,
                settings=settings,
            )
            erased = time.perf_counter() - t
        left = index_files_holding_name(index_dir)
        seconds, cpu, written = purges[-1]
        print(
            f"[{database}] erasure: {erased:.2f} s until erase_person returned, of which "
            f"the index purge {seconds:.2f} s, {cpu:.2f} CPU s ({written:,} documents "
            f"written, {cpu / max(1, written) * 1e6:.0f} CPU us each); "
            f"{segments(rt)}; index files still holding the name: {left or 'none'}"
        )
        t = time.perf_counter()
        service.sync.purge(on)
        alone = time.perf_counter() - t
        print(f"[{database}] the index purge alone, once more: {alone:.2f} s")
        t = time.perf_counter()
        rebuild_index(service.sync)
        print(
            f"[{database}] what an erasure did before, a rebuild of the index: "
            f"{time.perf_counter() - t:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument("--on", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index first")
    parser.add_argument("--spread", action="store_true", help="the person all over the library")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    for database in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        run(database, args.assets, args.on, args.rebuild, args.spread)


if __name__ == "__main__":
    main()
