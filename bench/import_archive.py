"""The migration import on a generated mixed archive.

    .venv/bin/python bench/import_archive.py [--files 1000] [--workers 2] [--process]

Generates (once, cached under .cache/bench-archive/) an archive of N files in nested
folders: JPEGs with XMP sidecars (half `photo.jpg.xmp`, half `photo.xmp`) carrying titles,
hierarchical keywords, ratings, rights and named regions; PNG, WebP, TIFF and GIF files;
a few real videos (ffmpeg); and some broken files (cut-off JPEGs, text posing as photos).
Then, in a fresh data dir with a real SQLite database:

1. the import (`import_all`, what `dam import --workers N --collections-from-folders`
   runs: sniff, hash, store, sidecar, asset, collection) with N threads: files/s;
2. the same import again, everything already imported: the re-run time (target < 10 s
   for 1,000 files);
3. with --process, the pipeline afterwards (renditions, faces) until every asset settled.

Prints wall time, CPU seconds of this process (user+sys, children included), peak RSS and
the load average, so figures taken on a shared machine can be judged. Not part of the
test run.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import col, func, select  # noqa: E402

from dam import migrate  # noqa: E402
from dam.models import Asset, Job, JobStatus, Role  # noqa: E402
from dam.runtime import build_runtime  # noqa: E402
from dam.settings import load_settings  # noqa: E402
from ingest.bulk_import import ImportOptions, import_all, walk  # noqa: E402
from ingest.demo import jpeg_bytes, scene, xmp_packet  # noqa: E402
from ingest.ffmpeg import ffmpeg_binary  # noqa: E402

GENERATOR_VERSION = 1
FOLDERS = ("Evenementen/2019", "Evenementen/2020", "Portretten", "Gebouwen/Gent", "Diversen")
KINDS = ("jpeg", "jpeg", "jpeg", "jpeg", "png", "webp", "tiff", "gif")  # per 8 photos
VIDEOS = 6
BROKEN_EVERY = 50  # one broken file in every 50


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _photo(seed: int, kind: str) -> tuple[bytes, str]:
    image = scene(480 + (seed % 4) * 80, 360 + (seed % 3) * 60, seed=seed)
    if kind == "jpeg":
        return jpeg_bytes(image, quality=85), ".jpg"
    buffer = io.BytesIO()
    fmt = {"png": "PNG", "webp": "WEBP", "tiff": "TIFF", "gif": "GIF"}[kind]
    (image.convert("P") if kind == "gif" else image).save(buffer, fmt)
    return buffer.getvalue(), {"png": ".png", "webp": ".webp", "tiff": ".tif", "gif": ".gif"}[kind]


def _sidecar(seed: int) -> bytes:
    return xmp_packet(
        title=f"Archiefbeeld {seed}",
        description="Uit het oude archief van de dienst communicatie.",
        hierarchical=[f"Plaatsen|Gent|Wijk {seed % 7}", "Archief|Migratie"],
        rating=seed % 6,
        label=("Red", "Green", "Blue")[seed % 3],
        creator="Team Communicatie",
        rights="© Stad Gent",
        alt_text=f"Archiefbeeld nummer {seed}.",
        regions=[("Archief Persoon", 0.4, 0.3, 0.1, 0.15)] if seed % 10 == 0 else None,
    )


def _video(target: Path, seed: int) -> None:
    binary = ffmpeg_binary()
    if binary is None:
        raise SystemExit("ffmpeg is needed to generate the archive's videos")
    subprocess.run(
        [
            binary,
            "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={1 + seed % 2}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            str(target),
        ],
        check=True,
    )  # fmt: skip


def ensure_archive(files: int) -> Path:
    """The generated archive of `files` files (sidecars not counted), made once."""
    root = ROOT / ".cache" / "bench-archive" / f"v{GENERATOR_VERSION}-{files}"
    done = root / ".complete"
    if done.exists():
        return root
    print(f"Generating an archive of {files} files in {root} ...", flush=True)
    started = time.perf_counter()
    for folder in FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for n in range(VIDEOS):
        _video(root / FOLDERS[n % len(FOLDERS)] / f"clip-{n:03d}.mp4", n)
    for seed in range(files - VIDEOS):
        folder = root / FOLDERS[seed % len(FOLDERS)]
        if seed % BROKEN_EVERY == 7:
            good, _ = _photo(seed, "jpeg")
            (folder / f"kapot-{seed:04d}.jpg").write_bytes(good[: len(good) // 3])
            continue
        if seed % BROKEN_EVERY == 31:
            (folder / f"geen-foto-{seed:04d}.jpg").write_bytes(b"dit is tekst " * 40)
            continue
        data, suffix = _photo(seed, KINDS[seed % len(KINDS)])
        path = folder / f"beeld-{seed:04d}{suffix}"
        path.write_bytes(data)
        if suffix == ".jpg":
            sidecar = path.with_name(path.name + ".xmp") if seed % 2 else path.with_suffix(".xmp")
            sidecar.write_bytes(_sidecar(seed))
    done.touch()
    print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--process", action="store_true", help="also run the pipeline")
    args = parser.parse_args()
    archive = ensure_archive(args.files)
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as scratch:
        settings = load_settings(
            data_dir=Path(scratch) / "data",
            database_url=f"sqlite:///{scratch}/bench.db",
            face_detection=args.process,
        )
        rt = build_runtime(settings)
        migrate.upgrade(rt.engine)
        from dam import auth

        with rt.unit_of_work() as session:
            owner = auth.create_user(
                session,
                email="bench@example.test",
                password=secrets.token_urlsafe(16),
                role=Role.admin,
            )
        options = ImportOptions(folder_depth=2, credit="Foto: archief")
        print(f"load before: {_load()}")

        for label in ("first run", "re-run"):
            cpu, wall = _cpu_s(), time.perf_counter()
            candidates = list(walk([archive]))
            summary = import_all(rt, candidates, owner=owner, options=options, workers=args.workers)
            wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
            print(
                f"{label}: {len(candidates)} files in {wall:.2f} s wall "
                f"({len(candidates) / wall:.1f} files/s), CPU {cpu:.2f} s, "
                f"peak RSS {_peak_rss_mb():.0f} MB, load {_load()}"
            )
            print(
                f"  imported {len(summary.imported)}, duplicates {summary.duplicates}, "
                f"already imported {summary.skipped}, refused {len(summary.failed)}, "
                f"{summary.bytes_read / 1e6:.1f} MB read"
            )

        if args.process:
            cpu, wall = _cpu_s(), time.perf_counter()
            rt.queue.start_consumer(args.workers)
            while True:
                with rt.session() as session:
                    busy = session.exec(
                        select(func.count()).where(
                            col(Job.status).in_([JobStatus.queued, JobStatus.running])
                        )
                    ).one()
                    total = session.exec(select(func.count()).select_from(Asset)).one()
                if not busy:
                    break
                time.sleep(1)
            wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
            print(
                f"processing: {total} assets in {wall:.1f} s wall ({total / wall:.2f}/s), "
                f"CPU {cpu:.1f} s, peak RSS {_peak_rss_mb():.0f} MB, load {_load()}"
            )
        rt.close()


if __name__ == "__main__":
    main()
