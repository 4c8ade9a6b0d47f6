"""Library page benchmark: 60 thumbnails from a library of 50,000 assets.

Creates the rows directly (no files: the page only reads rows; each photo has its thumb
and preview rendition rows, in a mix of shapes, as the tiles read them), logs in through
the form and times GET / server-side (the app called in-process, no network), then weighs
the page with everything it loads before thumbnails (HTML, CSS, scripts, icon). Then, among
5,000 people (each confirmed on a few photos, one on 2,000, every tenth with a suggestion):
the people picker's search (GET /api/v1/people/search), the People page (a page of 48,
searched, far pages, nobody found) and a person's page.

    .venv/bin/python bench/ui.py                 # SQLite in a temporary directory
    .venv/bin/python bench/ui.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/ui.py` puts bench/ first on sys.path, where a benchmark named like a package
# (bench/search.py) would shadow that package: import Beeldbank's packages, not neighbours.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from dam import auth, migrate  # noqa: E402
from dam.ids import new_id  # noqa: E402
from dam.models import Asset, AssetTag, Face, Person, Rendition, Role  # noqa: E402
from dam.runtime import build_runtime  # noqa: E402
from dam.settings import load_settings  # noqa: E402
from web.app import create_app  # noqa: E402

PASSWORD = "benchmark password"  # noqa: S105 - a throwaway account in a temporary database
BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
TAGS = ["zee", "strand", "campagne", "welzijn", "gent", "antwerpen", "brussel", "portret"]
SHAPES = [(6000, 4000), (4000, 6000), (5000, 5000), (6000, 3375), (3000, 4000)]
FIRST = ["Jan", "Els", "Pieter", "An", "Tom", "Sofie", "Koen", "Lies", "Wim", "Griet", "Gaëlle"]
LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"]


def _fit(width: int, height: int, longest: int) -> tuple[int, int]:
    scale = longest / max(width, height)
    return round(width * scale), round(height * scale)


def fill(runtime, count: int, owner_id: str) -> None:
    """`count` ready photo rows with tags, created in batches."""
    rng = random.Random(7)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    batch = 5_000
    with runtime.engine.begin() as conn:
        for first in range(0, count, batch):
            assets, tags = [], []
            renditions = []
            for n in range(first, min(first + batch, count)):
                asset_id = new_id()
                created = start + timedelta(minutes=n)
                width, height = SHAPES[n % len(SHAPES)]
                for name, longest in (("thumb", 400), ("preview", 1600)):
                    w, h = _fit(width, height, longest)
                    renditions.append(
                        {"id": new_id(), "asset_id": asset_id, "name": name, "mime": "image/webp",
                         "width": w, "height": h, "size": 20_000, "sha256": secrets.token_hex(32),
                         "path": f"derived/{asset_id}/{name}.webp", "created_at": created}
                    )  # fmt: skip
                assets.append(
                    {
                        "id": asset_id,
                        "kind": "image",
                        "status": "ready",
                        "filename": f"IMG_{n:06d}.jpg",
                        "mime": "image/jpeg",
                        "size": 2_000_000 + n,
                        "sha256": secrets.token_hex(32),
                        "width": width,
                        "height": height,
                        "taken_at": created - timedelta(days=rng.randint(0, 900)),
                        "title": f"Foto {n}" if n % 3 else "",
                        "description": "",
                        "alt_text": "",
                        "metadata": {},
                        "licence": {},
                        "blurhash": BLURHASH,
                        "owner_id": owner_id,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                tags += [{"asset_id": asset_id, "tag": t} for t in rng.sample(TAGS, 2)]
            conn.execute(insert(Asset.__table__), assets)  # type: ignore[attr-defined]
            conn.execute(insert(AssetTag.__table__), tags)  # type: ignore[attr-defined]
            conn.execute(insert(Rendition.__table__), renditions)  # type: ignore[attr-defined]
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def fill_people(runtime, count: int) -> list[str]:
    """`count` people; their search key comes from the column's default (bulk insert)."""
    with runtime.engine.begin() as conn:
        rows = [
            {"id": new_id(), "name": f"{FIRST[n % 11]} {LAST[(n // 11) % 8]} {n:05d}",
             "hidden": n % 50 == 0, "created_at": datetime.now(UTC),
             "updated_at": datetime.now(UTC)}
            for n in range(count)
        ]  # fmt: skip
        conn.execute(insert(Person.__table__), rows)  # type: ignore[attr-defined]
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE person"))
    return [row["id"] for row in rows]


def fill_faces(runtime, people: list[str], *, star_photos: int) -> None:
    """Each person confirmed on 3 photos (with a crop), every tenth with a suggestion too,
    and the first (the "star") on `star_photos` photos."""
    rng = random.Random(11)
    with runtime.engine.begin() as conn:
        assets = list(conn.execute(select(Asset.id).order_by(Asset.id)).scalars())  # type: ignore[arg-type]
        now = datetime.now(UTC)
        faces = []

        def face(asset_id: str, person_id: str, state: str) -> dict:
            face_id = new_id()
            return {"id": face_id, "asset_id": asset_id, "box_x": 0.4, "box_y": 0.3,
                    "box_w": 0.2, "box_h": 0.3, "score": 0.95, "detector": "bench",
                    "state": state, "person_id": person_id, "crop_path": f"crops/{face_id}.jpg",
                    "created_at": now, "updated_at": now}  # fmt: skip

        for n, person_id in enumerate(people):
            photos = star_photos if n == 0 else 3
            faces += [face(a, person_id, "confirmed") for a in rng.sample(assets, photos)]
            if n % 10 == 0:
                faces.append(face(rng.choice(assets), person_id, "suggested"))
        for first in range(0, len(faces), 5_000):
            conn.execute(insert(Face.__table__), faces[first : first + 5_000])  # type: ignore[attr-defined]
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE face"))


def log_in(client: TestClient, email: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def timed(client: TestClient, path: str, runs: int) -> tuple[float, float, int]:
    """Median and 95th percentile in ms, and the body size, over `runs` requests."""
    times = []
    size = 0
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
        size = len(response.content)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], size


def page_weight(client: TestClient, html: str) -> dict[str, int]:
    """Bytes of the page and of everything it loads before thumbnails."""
    urls = re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"', html)
    seen: dict[str, int] = {"(html)": len(html.encode())}
    queue = list(urls)
    while queue:
        url = queue.pop()
        path = url.split("?")[0]
        if path in seen:
            continue
        body = client.get(url).content
        seen[path] = len(body)
        if path.endswith(".js"):  # ES modules load what they import
            base = path.rsplit("/", 1)[0]
            imported = re.findall(r'from "\./([\w.-]+)"', body.decode())
            queue += [f"{base}/{name}" for name in imported]
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--star-photos", type=int, default=2_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp), database_url=args.database_url, queue_url="immediate://"
        )
        runtime = build_runtime(settings)
        migrate.upgrade(runtime.engine)
        email = f"bench-{secrets.token_hex(4)}@beeldbank.test"
        with runtime.unit_of_work() as session:
            user = auth.create_user(session, email=email, password=PASSWORD, role=Role.admin)
            owner_id = user.id
        began = time.perf_counter()
        fill(runtime, args.assets, owner_id)
        print(
            f"database: {runtime.engine.dialect.name}, {args.assets:,} assets created "
            f"in {time.perf_counter() - began:.1f} s"
        )
        with TestClient(create_app(runtime)) as client:
            log_in(client, email)
            for path in [
                "/",
                "/?sort=title",
                "/?sort=taken",
                "/?tag=zee",
                "/?tag=zee&mine=1",
                "/?page=400",
            ]:
                timed(client, path, 3)  # warm up: templates compiled, caches filled
                median, p95, size = timed(client, path, args.runs)
                cards = client.get(path).text.count('<li class="card ')
                print(
                    f"GET {path:<18} {cards} thumbnails  median {median:6.1f} ms  "
                    f"p95 {p95:6.1f} ms  html {size / 1000:.1f} kB"
                )
            asset_id = re.search(r'href="/assets/(\w+)\?i=0"', client.get("/").text)[1]  # type: ignore[index]
            timed(client, f"/assets/{asset_id}?i=0", 3)
            median, p95, size = timed(client, f"/assets/{asset_id}?i=0", args.runs)
            print(
                f"GET /assets/{{id}}?i=0  (an asset page)  median {median:6.1f} ms  "
                f"p95 {p95:6.1f} ms  html {size / 1000:.1f} kB"
            )
            html = client.get("/").text
            weight = page_weight(client, html)
            for name, size in sorted(weight.items()):
                print(f"  {name:<32} {size / 1000:7.1f} kB")
            print(
                f"page weight before thumbnails: {sum(weight.values()) / 1000:.1f} kB "
                "(uncompressed)"
            )
            began = time.perf_counter()
            people = fill_people(runtime, args.people)
            fill_faces(runtime, people, star_photos=args.star_photos)
            print(
                f"{args.people:,} people with {3 * args.people + args.star_photos:,} confirmed "
                f"faces created in {time.perf_counter() - began:.1f} s"
            )
            for words in ("j", "sofie", "sofie maes", "gael pee 0", "zzz"):
                path = f"/api/v1/people/search?q={words.replace(' ', '+')}&limit=8"
                timed(client, path, 3)
                median, p95, size = timed(client, path, args.runs)
                found = len(client.get(path).json()["items"])
                print(
                    f"GET people/search q={words!r:<13} {found} found  median {median:6.1f} ms  "
                    f"p95 {p95:6.1f} ms"
                )
            pages = [
                ("/people", "first page"),
                ("/people?page=50", "page 50"),
                ("/people?q=sofie+maes", "searched"),
                ("/people?q=zzz", "nobody found"),
                (f"/people/{people[0]}", f"person, {args.star_photos:,} photos"),
                (f"/people/{people[1]}", "person, 3 photos"),
            ]
            for path, what in pages:
                timed(client, path, 3)
                median, p95, size = timed(client, path, args.runs)
                html = client.get(path).text
                shown = html.count('class="person-card"') or html.count('<li class="card ')
                print(
                    f"GET {path[:24]:<24} ({what}, {shown} shown)  median {median:6.1f} ms  "
                    f"p95 {p95:6.1f} ms  html {size / 1000:.1f} kB"
                )
        runtime.close()


if __name__ == "__main__":
    main()
