"""Search: index build time and size, query latency through the backend and over HTTP,
and the same queries on SQLite FTS5 for comparison.

    .venv/bin/python bench/search.py [--assets 100000] [--queries 300]

1. A fresh data dir in a temp folder with a real SQLite database, filled with N synthetic
   assets: Dutch and English titles ("Fietsers aan de haven van Gent", "Cyclists near
   the Leie in Ghent"), descriptions, 2-4 tags, camera file names, capture dates over
   ten years, a person on one in five, channel verdicts on half of them.
2. Full reindex from the database, exactly as `dam reindex` does it (read, build the
   documents, write, one commit), timed; then the index size on disk.
3. Four query kinds, `--queries` of each drawn from the vocabulary with a fixed seed:
   typo (one typo in a word of 5+ letters), prefix (the first 3-5 letters while typing),
   phrase (two or three words of a title in quotes) and faceted filter (a word plus
   kind, year and tag filters). Every query asks for 20 hits and all facet counts, as
   the search page does. p50/p99 through the backend, then through GET /api/v1/search
   on `dam serve` in its own process on 127.0.0.1 (keep-alive client, bearer token).
4. The same data in an SQLite FTS5 table (unicode61, diacritics removed) with a facts
   table for filters and facet counts, queried with FTS5's nearest equivalents: the typo
   query as typed (FTS5 has no typo tolerance: see its hit counts), `fiet*` for prefix,
   "..." for phrases, MATCH plus WHERE plus GROUP BY for facets.

Targets on this 2-core machine: p99 under 30 ms through the backend, under 60 ms over
HTTP, full reindex under 60 s. Not part of the test run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from dam import auth, migrate  # noqa: E402
from dam.models import Asset, AssetTag, Role  # noqa: E402
from dam.runtime import build_runtime  # noqa: E402
from dam.settings import load_settings  # noqa: E402
from search import facts  # noqa: E402
from search.maintenance import rebuild  # noqa: E402
from search.query import Filters, SearchRequest, parse_query  # noqa: E402
from search.service import service_for  # noqa: E402

PLACES = [
    ("Gent", "Ghent"),
    ("Brugge", "Bruges"),
    ("Antwerpen", "Antwerp"),
    ("Leuven", "Leuven"),
    ("Mechelen", "Mechelen"),
    ("Kortrijk", "Kortrijk"),
    ("Oostende", "Ostend"),
    ("Hasselt", "Hasselt"),
    ("Brussel", "Brussels"),
    ("Aalst", "Aalst"),
    ("Ieper", "Ypres"),
    ("Genk", "Genk"),
]
SUBJECTS = [
    ("Fietsers", "Cyclists"),
    ("Wandelaars", "Walkers"),
    ("Kinderen", "Children"),
    ("Marktkramers", "Market traders"),
    ("Vrijwilligers", "Volunteers"),
    ("Leerlingen", "Pupils"),
    ("Muzikanten", "Musicians"),
    ("Brandweerlieden", "Firefighters"),
    ("Verpleegkundigen", "Nurses"),
    ("Toeristen", "Tourists"),
    ("Schepenen", "Aldermen"),
    ("De minister", "The minister"),
    ("Sporters", "Athletes"),
    ("Bezoekers", "Visitors"),
]
SETTINGS = [
    ("aan de haven van", "at the harbour of"),
    ("op de markt van", "on the market square of"),
    ("langs de rivier in", "along the river in"),
    ("in het stadspark van", "in the city park of"),
    ("bij het station van", "at the station of"),
    ("voor het stadhuis van", "in front of the city hall of"),
    ("in de bibliotheek van", "in the library of"),
    ("op het strand bij", "on the beach near"),
    ("tijdens de opening in", "during the opening in"),
    ("op het zomerfestival van", "at the summer festival of"),
]
TAGS = [
    "zomer",
    "winter",
    "lente",
    "herfst",
    "mobiliteit",
    "onderwijs",
    "zorg",
    "cultuur",
    "sport",
    "natuur",
    "erfgoed",
    "evenement",
    "persbericht",
    "campagne",
    "klimaat",
    "water",
    "fiets",
    "openbaar vervoer",
    "jeugd",
    "senioren",
]
FIRST = ["Jan", "An", "Pieter", "Els", "Tom", "Sofie", "Koen", "Lies", "Bart", "Inge"]
LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"]
CHANNELS = ["internal", "intranet", "website", "social", "print", "press"]
START = datetime(2015, 1, 1, tzinfo=UTC)


def synthetic_assets(count: int, seed: int = 7) -> Iterator[tuple[dict[str, Any], list[str]]]:
    rng = random.Random(seed)
    for n in range(count):
        place = rng.choice(PLACES)
        subject, setting = rng.choice(SUBJECTS), rng.choice(SETTINGS)
        dutch = rng.random() < 0.7
        lang = 0 if dutch else 1
        title = f"{subject[lang]} {setting[lang]} {place[lang]}"
        other = rng.choice(SUBJECTS)[1 - lang].lower()
        description = (
            f"{title}. Foto voor de campagne {rng.choice(TAGS)}, met {other}."
            if dutch
            else f"{title}. Photo for the {rng.choice(TAGS)} campaign, with {other}."
        )
        taken = START + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
        kind = "video" if rng.random() < 0.15 else "image"
        row = {
            "id": f"{n:026d}",
            "kind": kind,
            "status": "ready",
            "filename": f"IMG_{rng.randrange(100_000):05d}.{'mp4' if kind == 'video' else 'jpg'}",
            "mime": "video/mp4" if kind == "video" else "image/jpeg",
            "size": 1,
            "sha256": hashlib.sha256(str(n).encode()).hexdigest(),
            "title": title,
            "description": description,
            "alt_text": title if rng.random() < 0.5 else "",
            "width": 4000 if rng.random() < 0.7 else 3000,
            "height": 3000 if rng.random() < 0.7 else 4000,
            "taken_at": taken,
            "meta": {"creator": rng.choice(FIRST) + " " + rng.choice(LAST)},
            "licence": {"type": "stock"} if rng.random() < 0.1 else {},
            "created_at": START + timedelta(seconds=n * 30),
            "updated_at": START + timedelta(seconds=n * 30),
        }
        yield row, rng.sample(TAGS, rng.randint(2, 4))


def synthetic_facts(ids: list[str], seed: int = 11) -> dict[str, dict[str, Any]]:
    """People and verdicts, as the faces and consent packages will provide them."""
    out: dict[str, dict[str, Any]] = {}
    for asset_id in ids:
        rng = random.Random(f"{seed}-{asset_id}")
        values: dict[str, Any] = {}
        if rng.random() < 0.2:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            values["people"] = [{"id": name.lower().replace(" ", "-"), "name": name}]
        if rng.random() < 0.5:
            values["verdicts"] = {c: rng.choice(["cleared", "cleared", "review"]) for c in CHANNELS}
        if values:
            out[asset_id] = values
    return out


def fill_database(engine: Any, count: int) -> list[tuple[dict[str, Any], list[str]]]:
    rows = list(synthetic_assets(count))
    with engine.begin() as conn:
        for start in range(0, count, 5000):
            chunk = rows[start : start + 5000]
            conn.execute(insert(Asset), [r for r, _ in chunk])
            conn.execute(
                insert(AssetTag),
                [{"asset_id": r["id"], "tag": t} for r, tags in chunk for t in tags],
            )
    return rows


def with_typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "replace", "delete"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "replace":
        return word[:i] + rng.choice("aeiourstn") + word[i + 1 :]
    return word[:i] + word[i + 1 :]


def make_queries(n: int, seed: int = 3) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    rng = random.Random(seed)
    long_words = sorted(
        {
            w.lower()
            for pair in SUBJECTS + PLACES
            for text in pair
            for w in text.split()
            if len(w) >= 5
        }
    )
    places = [p[0].lower() for p in PLACES]
    queries: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    queries["typo"] = [
        (f"{with_typo(rng.choice(long_words), rng)} {rng.choice(places)} ", {}) for _ in range(n)
    ]
    queries["prefix"] = [
        (w[: rng.randint(3, 5)], {}) for w in (rng.choice(long_words) for _ in range(n))
    ]
    queries["phrase"] = []
    for _ in range(n):
        setting = rng.choice(SETTINGS)[0].split()
        queries["phrase"].append((f'"{setting[-1]} {rng.choice(places)}"', {}))
    queries["faceted"] = [
        (
            rng.choice(long_words) + " ",
            {"kind": "image", "year": rng.randint(2015, 2024), "tag": rng.choice(TAGS)},
        )
        for _ in range(n)
    ]
    return queries


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def measure(
    run: Callable[[str, dict[str, Any]], int], queries: list[Any]
) -> tuple[float, float, float]:
    for q, f in queries[:20]:  # warm caches and code paths
        run(q, f)
    times, hits = [], []
    for q, f in queries:
        started = time.perf_counter()
        hits.append(run(q, f))
        times.append(time.perf_counter() - started)
    p50, p99 = percentiles(times)
    return p50, p99, statistics.mean(hits)


def filters_of(f: dict[str, Any]) -> Filters:
    return Filters(
        kinds=(f["kind"],) if "kind" in f else (),
        years=(f["year"],) if "year" in f else (),
        tags=(f["tag"],) if "tag" in f else (),
    )


def build_fts5(
    path: Path, rows: list[tuple[dict[str, Any], list[str]]]
) -> tuple[sqlite3.Connection, float]:
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(title, description, alt_text, tags, filename, "
        "creator, tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE TABLE fact (rid INTEGER PRIMARY KEY, kind TEXT, year INTEGER)")
    db.execute("CREATE TABLE fact_tag (rid INTEGER, tag TEXT)")
    db.execute("CREATE INDEX fact_tag_tag ON fact_tag(tag, rid)")
    db.execute("CREATE INDEX fact_tag_rid ON fact_tag(rid, tag)")
    db.execute("CREATE INDEX fact_kind_year ON fact(kind, year)")
    db.executemany(
        "INSERT INTO docs(rowid, title, description, alt_text, tags, filename, creator) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                r["title"],
                r["description"],
                r["alt_text"],
                " ".join(t),
                r["filename"],
                r["meta"]["creator"],
            )
            for i, (r, t) in enumerate(rows)
        ],
    )
    db.executemany(
        "INSERT INTO fact VALUES (?, ?, ?)",
        [(i, r["kind"], r["taken_at"].year) for i, (r, _) in enumerate(rows)],
    )
    db.executemany(
        "INSERT INTO fact_tag VALUES (?, ?)",
        [(i, tag) for i, (_, tags) in enumerate(rows) for tag in tags],
    )
    db.commit()
    return db, time.perf_counter() - started


def fts5_query(db: sqlite3.Connection, q: str, f: dict[str, Any]) -> int:
    words = q.strip()
    if not words.startswith('"'):
        terms = words.split()
        last_typed = not q.endswith(" ")
        words = " ".join(
            f'"{t}"*' if last_typed and i == len(terms) - 1 else f'"{t}"'
            for i, t in enumerate(terms)
        )
    # The matching set once, into a temporary table; hits, count and facet counts read it
    # (the planner would otherwise probe the full-text index row by row for the facets).
    where, args = [], [words]
    if "kind" in f:
        where.append("fact.kind = ?")
        args.append(f["kind"])
    if "year" in f:
        where.append("fact.year = ?")
        args.append(f["year"])
    if "tag" in f:
        where.append("m.rid IN (SELECT rid FROM fact_tag WHERE tag = ?)")
        args.append(f["tag"])
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    db.execute("DROP TABLE IF EXISTS temp.hit")
    db.execute("CREATE TEMP TABLE hit (rid INTEGER PRIMARY KEY, rank REAL, kind TEXT, year INT)")
    db.execute(
        "INSERT INTO hit WITH m AS MATERIALIZED "  # noqa: S608
        "(SELECT rowid AS rid, rank FROM docs WHERE docs MATCH ?) "
        f"SELECT m.rid, m.rank, fact.kind, fact.year FROM m JOIN fact ON fact.rid = m.rid "
        f"{condition}",
        args,
    )
    db.execute(
        "SELECT hit.rid, docs.title FROM hit JOIN docs ON docs.rowid = hit.rid "
        "ORDER BY hit.rank LIMIT 20"
    ).fetchall()
    total = db.execute("SELECT count(*) FROM hit").fetchone()[0]
    db.execute("SELECT kind, count(*) FROM hit GROUP BY kind").fetchall()
    db.execute("SELECT year, count(*) FROM hit GROUP BY year").fetchall()
    db.execute(
        "SELECT tag, count(*) FROM fact_tag JOIN hit USING (rid) "
        "GROUP BY tag ORDER BY 2 DESC LIMIT 100"
    ).fetchall()
    return int(total)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        data = Path(tmp) / "data"
        settings = load_settings(data_dir=data, queue_url="immediate://", log_level="WARNING")
        rt = build_runtime(settings)
        migrate.upgrade(rt.engine)
        started = time.perf_counter()
        rows = fill_database(rt.engine, args.assets)
        seconds = time.perf_counter() - started
        print(f"{args.assets} synthetic assets written to SQLite in {seconds:.1f} s")
        provided = synthetic_facts([r["id"] for r, _ in rows])
        rt.wiring.extend(
            facts.FACTS, "bench", lambda _s, ids: {i: provided[i] for i in ids if i in provided}
        )

        service = service_for(rt)
        started = time.perf_counter()
        written = rebuild(service)
        build_s = time.perf_counter() - started
        backend = service.backend()
        size = backend.size_bytes() or 0
        print(f"Full reindex: {written} documents in {build_s:.1f} s ({written / build_s:,.0f}/s)")
        print(f"Index size: {size / 1e6:.1f} MB ({backend.describe()})")

        queries = make_queries(args.queries)

        def via_backend(q: str, f: dict[str, Any]) -> int:
            request = SearchRequest(query=parse_query(q), filters=filters_of(f), per_page=20)
            return backend.search(request).total

        with rt.unit_of_work() as session:
            user = auth.create_user(
                session,
                email="bench@example.test",
                password=secrets.token_urlsafe(16),
                role=Role.viewer,
            )
            token = auth.create_token(session, user=user)
        # The server runs as `dam serve` in its own process, as deployed: a client in the same
        # interpreter would compete with it for the GIL and inflate its figures. It reads
        # the index this process built; the writer lease goes to it.
        service.sync.close()
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DAM_")},
            "DAM_DATA_DIR": str(data),
            "DAM_QUEUE_URL": "immediate://",
            "DAM_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from dam.cli import main; main()",
                "serve",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

        deadline = time.monotonic() + 60
        while True:
            try:
                if http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("dam serve did not start") from None
                time.sleep(0.2)

        def via_http(q: str, f: dict[str, Any]) -> int:
            response = http.get("/api/v1/search", params={"q": q, **f})
            response.raise_for_status()
            return int(response.json()["total"])

        fts_db, fts_build_s = build_fts5(Path(tmp) / "fts.db", rows)
        fts_size = (Path(tmp) / "fts.db").stat().st_size

        def via_fts5(q: str, f: dict[str, Any]) -> int:
            return fts5_query(fts_db, q, f)

        load = os.getloadavg()
        print(f"Load average before the queries: {load[0]:.1f} ({os.cpu_count()} cores)")
        print()
        print(
            f"{'query':<10} {'example':<34} {'backend p50/p99 ms':>19} {'HTTP p50/p99 ms':>17} "
            f"{'FTS5 p50/p99 ms':>17} {'hits: ours':>11} {'FTS5':>8}"
        )
        worst_backend = worst_http = 0.0
        for name, batch in queries.items():
            b50, b99, b_hits = measure(via_backend, batch)
            h50, h99, _ = measure(via_http, batch)
            f50, f99, f_hits = measure(via_fts5, batch)
            worst_backend, worst_http = max(worst_backend, b99), max(worst_http, h99)
            example = (batch[0][0] + (" " + str(batch[0][1]) if batch[0][1] else ""))[:34]
            print(
                f"{name:<10} {example:<34} {b50:8.1f} / {b99:6.1f}   {h50:6.1f} / {h99:6.1f}   "
                f"{f50:6.1f} / {f99:6.1f}   {b_hits:11.0f} {f_hits:8.0f}"
            )
        print()
        print(
            f"FTS5: built in {fts_build_s:.1f} s, {fts_size / 1e6:.1f} MB (no stemming, no typos)"
        )
        verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
        print(
            f"Targets: backend p99 {worst_backend:.1f} ms < 30 ms {verdict(worst_backend < 30)}; "
            f"HTTP p99 {worst_http:.1f} ms < 60 ms {verdict(worst_http < 60)}; "
            f"reindex {build_s:.1f} s < 60 s {verdict(build_s < 60)}"
        )
        server.terminate()
        server.wait(timeout=30)
        http.close()
        fts_db.close()
        rt.close()


if __name__ == "__main__":
    main()
