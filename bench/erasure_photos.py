"""An erasure that blurs photos, and everyone else meanwhile: how long the erasure takes,
how long other writers wait, and how its progress moves.

    .venv/bin/python bench/erasure_photos.py [--photos 12] [--size 3000x2000]
        [--database sqlite|postgresql|both] [--alone]

A fresh library of `--photos` camera-sized JPEGs (imported as `dam import` does, so each has
its renditions), one person confirmed on each; the person is erased with assets=redact
through the `person_erasure` job. Meanwhile one thread writes a small change to another
asset every 50 ms (each in a transaction of its own) and another reads the job's progress
every 100 ms (`--alone`: nobody). Printed: the erasure's time, the writers' waits (median,
worst, how many writes got through while it ran), and the progress values seen. To compare
with another checkout, run this file with BEELDBANK_ROOT pointing at it.

Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(os.environ.get("BEELDBANK_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))
sys.path.append(str(Path(__file__).resolve().parent))  # scratch.py

from scratch import scratch_runtime  # noqa: E402
from sqlalchemy import update  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from dam import auth  # noqa: E402
from dam.models import Asset, Face, FaceState, Job, Person, Role  # noqa: E402
from dam.runtime import Runtime  # noqa: E402
from gdpr.requests import erasure, person_requests  # noqa: E402
from ingest.bulk_import import ImportSummary, import_file, walk  # noqa: E402
from ingest.demo import jpeg_bytes, scene  # noqa: E402


def library(rt: Runtime, photos: int, width: int, height: int) -> tuple[str, str, str]:
    """`photos` imported photos with the person confirmed on each, and one more photo;
    the person's id, the other photo's id and a privacy officer's id."""
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(photos + 1):
            data = jpeg_bytes(scene(width, height, seed=number))
            (Path(tmp) / f"photo-{number:03d}.jpg").write_bytes(data)
        summary = ImportSummary()
        with rt.session() as session:
            for candidate in walk([Path(tmp)]):
                import_file(
                    session, blobs=rt.blobs, candidate=candidate, owner=None, summary=summary
                )
    ids = sorted(summary.imported)
    assert len(ids) == photos + 1, summary
    with rt.unit_of_work() as session:
        officer = auth.create_user(
            session,
            email="po@bench.local",
            password=secrets.token_urlsafe(16),
            role=Role.privacy_officer,
        )
        person = Person(name="Bench Persoon")
        session.add(person)
        session.flush()
        for asset_id in ids[:photos]:
            session.add(
                Face(
                    asset_id=asset_id,
                    box_x=0.4,
                    box_y=0.3,
                    box_w=0.15,
                    box_h=0.25,
                    score=0.99,
                    detector="bench",
                    state=FaceState.confirmed,
                    person_id=person.id,
                )
            )
        return person.id, ids[photos], officer.id


def run(database: str, photos: int, width: int, height: int, *, alone: bool) -> None:
    with scratch_runtime(database) as rt:
        t = time.perf_counter()
        person_id, other_id, officer_id = library(rt, photos, width, height)
        made = time.perf_counter() - t
        print(f"[{database}] {photos} photos of {width}x{height} imported in {made:.1f} s")
        running = threading.Event()
        stop = threading.Event()
        waits: list[float] = []
        progress: list[float] = []

        def writer() -> None:
            running.wait()
            while not stop.is_set():
                started = time.perf_counter()
                with rt.unit_of_work() as session:
                    session.execute(
                        update(Asset)
                        .where(col(Asset.id) == other_id)
                        .values(alt_text=f"proef {len(waits)}")
                    )
                waits.append(time.perf_counter() - started)
                time.sleep(0.05)

        def reader() -> None:
            running.wait()
            while not stop.is_set():
                with rt.session() as session:
                    job = session.exec(
                        select(Job).where(Job.stage == person_requests.ERASURE_TASK)
                    ).first()
                    if job is not None and (not progress or progress[-1] != job.progress):
                        progress.append(job.progress)
                time.sleep(0.1)

        threads = (
            [] if alone else [threading.Thread(target=writer), threading.Thread(target=reader)]
        )
        for thread in threads:
            thread.start()
        with rt.session() as session:
            actor = session.get(auth.User, officer_id)
            assert actor is not None
            running.set()
            t = time.perf_counter()
            job = person_requests.request_erasure(  # the test queue runs it here, at once
                session, person_id=person_id, assets=erasure.AssetsChoice.redact, actor=actor
            )
            took = time.perf_counter() - t
        stop.set()
        for thread in threads:
            thread.join()
        with rt.session() as session:
            done = session.get(Job, job.id)
            assert done is not None and done.status == "done", done and done.error
        if alone:
            print(f"[{database}] erasure of {photos} photos, nobody else: {took:.2f} s")
            return
        print(
            f"[{database}] erasure of {photos} photos: {took:.2f} s; other writer: "
            f"{len(waits)} writes meanwhile, median {statistics.median(waits) * 1000:.0f} ms, "
            f"worst {max(waits):.2f} s; progress seen: " + ", ".join(f"{p:.2f}" for p in progress)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--size", default="3000x2000")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--alone", action="store_true", help="no writer or reader meanwhile")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    print(f"code: {ROOT}; load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    for database in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        run(database, args.photos, width, height, alone=args.alone)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
