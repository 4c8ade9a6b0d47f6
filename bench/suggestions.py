"""A person found across the library: the `suggest_person` job at 100,000 faces.

    .venv/bin/python bench/suggestions.py [--faces 100000] [--database-url URL]

Builds a library of N faces (20 % of them confirmed for people, the rest unknown) on
N / 2 photos in a fresh SQLite database (or the PostgreSQL database given), each face
with a sealed embedding: synthetic 128-d vectors spread like dlib's (people ~0.9 apart,
one person's faces ~0.35 apart; 5 faces per person). Then, for a person with confirmed
faces, runs gdpr.recognition.person_suggestions.suggest_across_library as the job does: once with an
empty cache (every embedding opened) and once warm (only the metadata read), and checks
that the suggestions are the person's own faces. Prints wall and CPU seconds (this
process) and the load average. Target: within 10 s at 100,000 faces.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sqlalchemy import insert
from sqlmodel import col, select

from dam import biometrics, migrate
from dam.clock import now
from dam.ids import new_id
from dam.models import Asset, Face, FaceEmbedding, FaceState, Person
from dam.runtime import build_runtime
from dam.settings import load_settings
from gdpr.recognition.face_vectors import FaceVectors
from gdpr.recognition.person_suggestions import suggest_across_library

MODEL = "dlib-resnet-v1+5pt"
PER_PERSON = 5
TARGET_S = 10.0


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def build(rt, count: int) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Fill the library; the person searched for and their unknown faces' ids."""
    rng = np.random.default_rng(0)
    people_count = count // PER_PERSON
    centres = rng.normal(0, 0.055, (people_count, 128)).astype(np.float32)
    vectors = np.repeat(centres, PER_PERSON, axis=0) + rng.normal(0, 0.022, (count, 128))
    vectors = vectors.astype(np.float32)
    key = biometrics.face_key(rt.settings)
    moment = now()
    asset_ids = [new_id() for _ in range(count // 2)]
    person_ids = [new_id() for _ in range(people_count)]
    face_ids = [new_id() for _ in range(count)]
    # Faces on photos at random, two per photo; every person's first face confirmed for
    # the first 20 % of people, the other faces unknown.
    placement = rng.permutation(count) // 2
    with rt.engine.begin() as conn:
        conn.execute(
            insert(Asset),
            [
                {"id": a, "kind": "image", "status": "ready", "filename": "b.jpg",
                 "mime": "image/jpeg", "size": 1, "sha256": secrets.token_hex(32),
                 "width": 1600, "height": 1200, "title": "", "description": "",
                 "alt_text": "", "created_at": moment, "updated_at": moment}
                for a in asset_ids
            ],
        )  # fmt: skip
        conn.execute(
            insert(Person),
            [{"id": p, "name": f"P{i}", "created_at": moment, "updated_at": moment}
             for i, p in enumerate(person_ids[: people_count // 5])],
        )  # fmt: skip
        rows, sealed = [], []
        for i, face_id in enumerate(face_ids):
            person = i // PER_PERSON
            confirmed = person < people_count // 5 and i % PER_PERSON == 0
            rows.append(
                {"id": face_id, "asset_id": asset_ids[placement[i]], "box_x": 0.1,
                 "box_y": 0.1, "box_w": 0.1, "box_h": 0.1, "score": 0.99, "detector": "bench",
                 "state": FaceState.confirmed if confirmed else FaceState.unknown,
                 "person_id": person_ids[person] if confirmed else None,
                 "cluster_id": None if confirmed else face_id,
                 "created_at": moment, "updated_at": moment}
            )  # fmt: skip
            sealed.append(
                {"face_id": face_id, "model": MODEL, "key_id": key.key_id, "created_at": moment,
                 "sealed": biometrics.seal(key, face_id=face_id, model=MODEL, vector=vectors[i])}
            )  # fmt: skip
        conn.execute(insert(Face), rows)
        conn.execute(insert(FaceEmbedding), sealed)
    target = 7  # a confirmed person: faces 35..39, the first one confirmed
    return person_ids[target], face_ids[target * PER_PERSON + 1 : (target + 1) * PER_PERSON]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="bench-suggestions-") as temp:
        settings = load_settings(
            data_dir=Path(temp) / "data",
            database_url=args.database_url,
            queue_url=None,
            face_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        )
        rt = build_runtime(settings)
        try:
            migrate.upgrade(rt.engine)
            started = time.perf_counter()
            person_id, theirs = build(rt, args.faces)
            print(
                f"  library of {args.faces:,} faces built in {time.perf_counter() - started:.1f} s"
            )
            key = biometrics.face_key(settings)
            cache = FaceVectors()
            for label in ("cold cache (every embedding opened)", "warm cache"):
                wall, spent = time.perf_counter(), cpu()
                with rt.session() as session:
                    made = suggest_across_library(session, key, cache, person_id=person_id)
                    session.rollback()  # the same work for the warm run
                seconds = time.perf_counter() - wall
                print(
                    f"  {label:38s} {seconds:5.2f} s wall, {cpu() - spent:5.2f} CPU s; "
                    f"{made} suggestions [target <= {TARGET_S:.0f} s: "
                    f"{'meets' if seconds <= TARGET_S else 'MISSES'} target]"
                )
            with rt.session() as session:
                suggest_across_library(session, key, cache, person_id=person_id)
                session.commit()
                got = set(
                    session.exec(
                        select(Face.id).where(
                            Face.person_id == person_id, Face.state == FaceState.suggested
                        )
                    )
                )
                unknown_left = session.exec(
                    select(Face.id).where(col(Face.id).in_(theirs), Face.state == FaceState.unknown)
                ).all()
            print(
                f"  the person's own unknown faces suggested: {len(got & set(theirs))} of "
                f"{len(theirs)}; others suggested: {len(got - set(theirs))}; "
                f"left unknown: {len(unknown_left)} (a face sharing a photo with a closer one)"
            )
            print(f"  load average {os.getloadavg()[0]:.2f} at end")
        finally:
            rt.close()


if __name__ == "__main__":
    main()
