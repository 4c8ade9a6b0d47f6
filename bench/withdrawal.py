"""Withdrawal and expiry: how fast the verdicts follow a consent.

    .venv/bin/python bench/withdrawal.py [--assets 100000] [--on 10000]
        [--database sqlite|postgresql|both] [--profile] [--without-index-writer]

1. A fresh database (SQLite file in a temp dir, or a fresh schema in the PostgreSQL at
   DAM_TEST_POSTGRES_URL / postgresql://postgres@127.0.0.1:5432/test) filled with N ready
   assets. One person is confirmed on `--on` of them; the other assets show one of 2,000
   other people, each with a consent, one in ten also with an unknown face. Every asset
   gets its verdicts (6 channels) computed once, as ingest would have left them.
2. Withdrawal: POST /api/v1/consents/{id}/withdraw through the real app (TestClient, same
   process) for the person on `--on` assets: time from the call until it returns, by
   which time every affected verdict is stored (checked afterwards by counting them).
3. Expiry: all 2,000 other people's consents end at the same midnight (the worst case: 90%
   of the library changes at once); the clock moves one minute past it and the periodic
   task `verdict_deadlines` (the sweeper runs it every minute) re-judges every verdict
   set whose verdicts change then (assets with equal facts share one set, so 90,000
   assets of 2,000 people are a few thousand sets): time for that task, with this
   process's search writer re-indexing the affected assets meanwhile, as it would in
   `dam serve` (--without-index-writer: the task alone, as in a separate worker).

Targets on this 2-core machine: withdrawal under 2 s, expiry task under 10 s.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import secrets
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from scratch import scratch_runtime  # noqa: E402  (bench/, next to this file)
from sqlalchemy import func, insert, select  # noqa: E402

from dam import auth, clock  # noqa: E402
from dam.ids import new_id  # noqa: E402
from dam.models import (  # noqa: E402
    Asset,
    AssetVerdict,
    Consent,
    Face,
    FaceState,
    Person,
    Role,
    VerdictSet,
)
from dam.runtime import Runtime  # noqa: E402
from gdpr.judgement import verdicts  # noqa: E402
from search.service import service_for  # noqa: E402
from web.app import create_app  # noqa: E402

OTHERS = 2000


def fill(
    rt: Runtime, n_assets: int, n_on: int, expiry: datetime, *, spread: bool = False
) -> tuple[str, str]:
    """Assets, people, faces and consents in bulk; returns (person id, consent id). The
    person is on the first `n_on` assets, or with `spread` on every n_assets/n_on-th one
    (across the whole library, so in every segment of a search index)."""
    every = max(1, n_assets // max(1, n_on)) if spread else 1
    rng = random.Random(7)
    now = clock.now()
    granted = now - timedelta(days=100)
    star = Person(name="Bench Person", created_at=now, updated_at=now)
    others = [
        {
            "id": new_id(),
            "name": f"Persoon {i}",
            "email": None,
            "notes": "",
            "is_minor": False,
            "hidden": False,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(OTHERS)
    ]
    star_consent = new_id()
    with rt.session() as session:
        session.add(star)
        session.flush()
        star_id = star.id
        session.execute(insert(Person), others)
        session.execute(
            insert(Consent),
            [
                {
                    "id": star_consent,
                    "person_id": star_id,
                    "version": 1,
                    "channels": ["internal", "intranet", "website", "social", "print", "press"],
                    "granted_at": granted,
                    "valid_until": None,
                    "form_version": "",
                    "notes": "",
                    "created_at": now,
                }
            ]
            + [
                {
                    "id": new_id(),
                    "person_id": p["id"],
                    "version": 1,
                    "channels": ["internal", "intranet", "website"],
                    "granted_at": granted,
                    "valid_until": expiry,
                    "form_version": "",
                    "notes": "",
                    "created_at": now,
                }
                for p in others
            ],
        )
        batch = 5000
        for start in range(0, n_assets, batch):
            assets, faces = [], []
            for i in range(start, min(n_assets, start + batch)):
                aid = new_id()
                assets.append(
                    {
                        "id": aid,
                        "kind": "image",
                        "status": "ready",
                        "filename": f"IMG_{i}.jpg",
                        "mime": "image/jpeg",
                        "size": 1000,
                        "sha256": secrets.token_hex(32),
                        "title": f"Foto {i}",
                        "description": "",
                        "alt_text": "alt" if i % 2 else "",
                        "metadata": {},
                        "licence": {},
                        "undetected_people": False,
                        "restricted": False,
                        "faces_checked_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                on = i % every == 0 and i // every < n_on
                person = star_id if on else rng.choice(others)["id"]
                faces.append(face_row(aid, person, FaceState.confirmed, now))
                if i % 10 == 0:
                    faces.append(face_row(aid, None, FaceState.unknown, now))
            session.execute(insert(Asset), assets)
            session.execute(insert(Face), faces)
        session.commit()
    return star_id, star_consent


def face_row(asset_id: str, person_id: str | None, state: FaceState, now: datetime) -> dict:
    return {
        "id": new_id(),
        "asset_id": asset_id,
        "box_x": 0.1,
        "box_y": 0.1,
        "box_w": 0.2,
        "box_h": 0.2,
        "score": 0.99,
        "detector": "bench",
        "state": state,
        "person_id": person_id,
        "created_at": now,
        "updated_at": now,
    }


def run(
    database: str, n_assets: int, n_on: int, profile: bool = False, index_writer: bool = True
) -> None:
    with scratch_runtime(database) as rt:
        settings = rt.settings
        expiry = (clock.now() + timedelta(days=2)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        t = time.perf_counter()
        star_id, consent_id = fill(rt, n_assets, n_on, expiry)
        filled = time.perf_counter() - t
        t = time.perf_counter()
        with rt.session() as session:
            ids = list(session.execute(select(Asset.id)).scalars())
            verdicts.refresh(session, ids, settings=settings)
            session.commit()
        initial = time.perf_counter() - t
        # The index catches up with the whole library first, so that the timings
        # below are not shared with a 100,000-document initial indexing.
        t = time.perf_counter()
        sync = service_for(rt).sync
        assert sync.flush(timeout=600)
        indexed = time.perf_counter() - t
        with rt.unit_of_work() as session:
            officer = auth.create_user(
                session,
                email="po@bench.local",
                password=secrets.token_urlsafe(16),
                role=Role.privacy_officer,
            )
            token = auth.create_token(session, user=officer, name="bench")
        print(
            f"[{database}] {n_assets:,} assets, person on {n_on:,}: filled in {filled:.1f} s, "
            f"first verdicts for all in {initial:.1f} s, indexed in {indexed:.1f} s"
        )

        with TestClient(create_app(rt)) as client:
            profiler = cProfile.Profile() if profile else None
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            response = client.post(
                f"/api/v1/consents/{consent_id}/withdraw",
                headers={"Authorization": f"Bearer {token}"},
                json={"reason": "bench"},
            )
            withdrawal = time.perf_counter() - t
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            assert response.status_code == 200, response.text
            t = time.perf_counter()
            assert sync.flush(timeout=600)
            reindexed = time.perf_counter() - t
        with rt.session() as session:
            blocked = session.execute(
                select(func.count())
                .select_from(AssetVerdict)
                .join(Face, Face.asset_id == AssetVerdict.asset_id)
                .join(VerdictSet, VerdictSet.id == AssetVerdict.verdict_id)
                .where(
                    Face.person_id == star_id,
                    VerdictSet.status == "blocked",
                    VerdictSet.cleared_for == "",
                )
            ).scalar_one()
        assert blocked == n_on, blocked
        print(
            f"[{database}] withdrawal: {withdrawal * 1000:.0f} ms until the call returned "
            f"with {n_on:,} assets re-judged ({blocked:,} now blocked on every channel; "
            f"target < 2 s); the search index followed {reindexed:.1f} s later"
        )

        if not index_writer:
            sync.close()  # the task alone, as in a worker process apart from the writer
        moved = expiry + timedelta(minutes=1)
        real_now = clock.now
        clock.now = lambda: moved  # type: ignore[assignment]
        try:
            profiler = cProfile.Profile() if profile else None
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            rt.wiring.periodic["verdict_deadlines"](rt)
            expiry_task = time.perf_counter() - t
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        finally:
            clock.now = real_now  # type: ignore[assignment]
        with rt.session() as session:
            left = session.execute(
                select(func.count())
                .select_from(AssetVerdict)
                .join(VerdictSet, VerdictSet.id == AssetVerdict.verdict_id)
                .where(VerdictSet.next_change_at <= moved)
            ).scalar_one()
            sets = session.execute(
                select(func.count(func.distinct(AssetVerdict.verdict_id)))
                .join(Face, Face.asset_id == AssetVerdict.asset_id)
                .where(Face.person_id != star_id)
            ).scalar_one()
        print(
            f"[{database}] expiry: periodic task {expiry_task:.2f} s for "
            f"{n_assets - n_on:,} assets whose consents ended at midnight, sharing "
            f"{sets:,} verdict sets ({left} assets still past their deadline; "
            f"target < 10 s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--on", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print profiles of the withdrawal and the expiry task",
    )
    parser.add_argument(
        "--without-index-writer",
        action="store_true",
        help="stop this process's search writer before the expiry task (as with a worker "
        "process apart from the process writing the index)",
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    for database in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        run(database, args.assets, args.on, args.profile, not args.without_index_writer)


if __name__ == "__main__":
    main()
