"""How fast the privacy dashboard's queries are with 100,000 assets: 150,000 faces of which
a share is still undecided, 2,000 people with consents (some ending soon, some withdrawn)
and 5,000 recorded usages. Prints each query's time on SQLite and (when reachable)
PostgreSQL. Not part of the test run:

    .venv/bin/python bench/privacy_dashboard.py [--assets N] [--undecided FRACTION]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from dam import clock, migrate  # noqa: E402
from dam.models import Asset, Consent, Face, Person, Usage  # noqa: E402
from dam.runtime import build_runtime  # noqa: E402
from dam.settings import load_settings  # noqa: E402
from gdpr import dashboard  # noqa: E402

PG_URL = os.environ.get("DAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def fill(session: Session, assets: int, undecided: float) -> None:
    rng = random.Random(7)
    start = clock.now() - timedelta(days=400)
    asset_ids = [f"a{n:09d}" for n in range(assets)]
    for chunk in range(0, assets, 5000):
        session.execute(
            insert(Asset),
            [
                {
                    "id": aid,
                    "kind": "image",
                    "status": "ready",
                    "filename": f"{aid}.jpg",
                    "mime": "image/jpeg",
                    "size": 1000,
                    "sha256": f"{n:064x}",
                    "title": "",
                    "description": "",
                    "alt_text": "",
                    "metadata": {},
                    "licence": {},
                    "undetected_people": False,
                    "restricted": False,
                    "created_at": start + timedelta(seconds=n * 300),
                    "updated_at": start,
                }
                for n, aid in enumerate(asset_ids[chunk : chunk + 5000], start=chunk)
            ],
        )
    people = [f"p{n:09d}" for n in range(2000)]
    session.execute(insert(Person), [{"id": p, "name": f"Persoon {p}"} for p in people])
    faces = []
    for n in range(assets * 3 // 2):
        aid = asset_ids[rng.randrange(assets)]
        if rng.random() < undecided:
            state, person = rng.choice(["unknown", "suggested"]), None
            if state == "suggested":
                person = rng.choice(people)
        else:
            state, person = "confirmed", rng.choice(people)
        faces.append(
            {
                "id": f"f{n:09d}",
                "asset_id": aid,
                "box_x": 0.1,
                "box_y": 0.1,
                "box_w": 0.2,
                "box_h": 0.2,
                "score": 0.9,
                "detector": "bench",
                "state": state,
                "person_id": person,
                "created_at": start,
                "updated_at": start,
            }
        )
    for chunk in range(0, len(faces), 5000):
        session.execute(insert(Face), faces[chunk : chunk + 5000])
    now = clock.now()
    session.execute(
        insert(Consent),
        [
            {
                "id": f"c{n:09d}",
                "person_id": p,
                "version": 1,
                "channels": ["website"],
                "granted_at": now - timedelta(days=100),
                "valid_until": now + timedelta(days=rng.randrange(1, 400)),
                "withdrawn_at": now - timedelta(days=1) if n % 20 == 0 else None,
                "form_version": "",
                "notes": "",
                "created_at": now,
            }
            for n, p in enumerate(people)
        ],
    )
    session.execute(
        insert(Usage),
        [
            {
                "id": f"u{n:09d}",
                "asset_id": asset_ids[rng.randrange(assets)],
                "channel": "website",
                "note": "",
                "used_at": now,
                "created_at": now,
            }
            for n in range(5000)
        ],
    )
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))  # as autovacuum would after a load this size
        session.commit()


def timed(label: str, call: Callable[[], object]) -> None:
    call()  # warm the cache once, as a page shown twice would
    began = time.perf_counter()
    result = call()
    ms = (time.perf_counter() - began) * 1000
    size = len(result) if isinstance(result, list) else result
    print(f"  {label:<28} {ms:8.1f} ms  ({size})")


def run(database_url: str, data_dir: Path, assets: int, undecided: float) -> None:
    settings = load_settings(data_dir=data_dir, database_url=database_url, queue_url="immediate://")
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    try:
        with runtime.session() as session:
            began = time.perf_counter()
            fill(session, assets, undecided)
            print(f"  filled in {time.perf_counter() - began:.1f} s")
        with runtime.session() as session:
            timed("review_count", lambda: dashboard.review_count(session))
            timed("review_assets (12)", lambda: dashboard.review_assets(session, limit=12))
            newest = dashboard.next_for_review(session)
            timed("next_for_review", lambda: dashboard.next_for_review(session, after=newest))
            timed("consents_ending (30 d)", lambda: dashboard.consents_ending(session, days=30))
            timed("withdrawn_published", lambda: dashboard.withdrawn_published(session))
            timed("audit_actions", lambda: dashboard.audit_actions(session))
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--undecided", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite, {args.assets:,} assets, {args.undecided:.0%} of faces undecided")
        run(f"sqlite:///{tmp}/bench.db", Path(tmp) / "data", args.assets, args.undecided)
    schema = f"bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped: {exc}")
        return
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"PostgreSQL, {args.assets:,} assets")
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
            run(url, Path(tmp) / "data", args.assets, args.undecided)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
