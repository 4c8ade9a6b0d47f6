"""Photo ingest throughput, and the renditions stage against libvips on the same files.

    .venv/bin/python bench/ingest_images.py [--count 40] [--workers 2]

Generates N camera-like 24-megapixel JPEGs once (6000 x 4000, a landscape with texture and
sensor-like noise, 6-10 MB each; every fifth one a portrait stored sideways with EXIF
orientation 6) and caches them under .cache/bench-images/. Then:

1. Pipeline: a fresh data dir in a temp folder, a real SQLite database, the default SQLite
   Huey queue and N consumer worker threads in this process. The files are imported one
   after the other (store + schedule, as `dam import` does) while the workers process them.
   Prints per stage the median of Job.duration_s (wall) and the CPU seconds per photo (the
   worker thread's own CPU time while the stage ran), where the rest of the process's CPU
   went (the main thread storing and polling, the workers' job bookkeeping, other threads),
   and images per second from the first store to the moment the last asset became ready.
2. Comparison, single-threaded, workers stopped: for every file in turn, the renditions
   stage (render_image(), called directly) and libvips producing the same three outputs
   (pyvips.Image.thumbnail from the file, concurrency 1, operation cache off), interleaved
   file by file so that load from other processes hits both alike.

The machine is shared with whatever else runs on it: the CPU time other processes used
during the pipeline run is printed too. Not part of the test run.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

# libvips reads this when it starts; set before pyvips is first imported (in compare()).
os.environ["VIPS_CONCURRENCY"] = "1"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from PIL import Image  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from dam import migrate  # noqa: E402
from dam.clock import now  # noqa: E402
from dam.jobs import StageContext  # noqa: E402
from dam.models import Asset, AssetKind, AssetStatus, Job, JobStatus  # noqa: E402
from dam.plugins import builtin_wiring  # noqa: E402
from dam.runtime import Runtime, build_runtime  # noqa: E402
from dam.settings import Settings, load_settings  # noqa: E402
from ingest.bulk_import import ImportSummary, import_file, walk  # noqa: E402
from ingest.demo import exif_block, jpeg_bytes, scene, store_oriented  # noqa: E402
from ingest.faces.stage import detect_asset_faces  # noqa: E402
from ingest.image.renditions import IMAGE_RENDITIONS  # noqa: E402
from ingest.image.stages import render_image  # noqa: E402

WIDTH, HEIGHT = 6000, 4000
CAMERA_QUALITY = 92  # a camera's "fine" JPEG setting
GENERATOR_VERSION = 2  # bump when photo() changes, so that the cache is rebuilt
CACHE = ROOT / ".cache" / "bench-images" / f"v{GENERATOR_VERSION}-{WIDTH}x{HEIGHT}"

TARGET_RATIO = 1.3
TARGET_IMAGES_PER_S = 3.5
TARGET_FACES_RATIO = 1.0  # faces stage per photo against the renditions stage
# The faces stage as it was before issue 16: the whole photo searched at 4000 px for faces
# from 20 px of the original (a whole-frame size at the smallest face: no regions).
FACES_BEFORE = {"face_max_edge_px": 4000, "face_whole_frame_px": 20}

# libvips save options matching IMAGE_RENDITIONS (large, preview, thumb, in that order).
# keep=none: our renditions carry no metadata either (and must not: GPS, names).
VIPS_SAVE = {
    "large": {"Q": 85, "optimize_coding": False, "interlace": False},
    "preview": {"Q": 80, "effort": 2},
    "thumb": {"Q": 75, "effort": 4},
}


# --- test photos -----------------------------------------------------------------------------


def photo(seed: int) -> bytes:
    """One camera-like JPEG: smooth structure, mid-frequency texture, per-pixel noise."""
    rng = np.random.default_rng(seed)
    portrait = seed % 5 == 4
    width, height = (HEIGHT, WIDTH) if portrait else (WIDTH, HEIGHT)
    # Structure drawn at a quarter of the size and scaled up: soft edges, as through a real
    # lens, and drawing costs 1/16 of the pixels.
    small = scene(width // 4, height // 4, seed, noise=0)
    pixels = np.asarray(small.resize((width, height), Image.Resampling.BICUBIC), np.int16)
    # Texture (foliage, fabric): coarse random luminance scaled up smoothly.
    coarse = Image.frombytes("L", (width // 8, height // 8), rng.bytes(width * height // 64))
    texture = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), np.int16)
    pixels += (texture - 128)[..., None] // (3 + seed % 3)
    # Sensor noise per pixel and channel, stronger at "higher ISO" (sd 4.6-9.2 levels): the
    # sum of two uniform nibbles is triangular, ten times cheaper than numpy's normal().
    raw = np.frombuffer(rng.bytes(width * height * 6), np.uint8).reshape(2, height, width, 3)
    noise = (raw[0] & 15).astype(np.int16) + (raw[1] & 15) - 15
    pixels += noise * (3 + seed % 4) // 4
    upright = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    orientation = 6 if portrait else 1
    taken = datetime(2025, 6, 1, 9, 0) + timedelta(minutes=7 * seed)
    exif = exif_block(orientation=orientation, make="Bench", model="Synthetic 24MP", taken=taken)
    return jpeg_bytes(store_oriented(upright, orientation), exif=exif, quality=CAMERA_QUALITY)


def _write_photo(seed: int) -> None:
    path = CACHE / f"photo-{seed:03d}.jpg"
    temp = path.with_suffix(f".{os.getpid()}.part")  # two benches may fill the cache at once
    temp.write_bytes(photo(seed))
    temp.replace(path)  # an interrupted run leaves no half-written photo behind


def ensure_photos(count: int) -> list[Path]:
    """The first `count` bench photos, generating the missing ones (one process per CPU)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(count) if not (CACHE / f"photo-{i:03d}.jpg").exists()]
    if missing:
        print(f"Generating {len(missing)} photos in {CACHE} ...", flush=True)
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(_write_photo, missing))
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    return [CACHE / f"photo-{i:03d}.jpg" for i in range(count)]


# --- 1. the pipeline -------------------------------------------------------------------------


def _busy_cpu_s() -> float:
    """CPU seconds all processes on the machine have spent so far (not idle, not iowait)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


class CpuMeter:
    """CPU seconds used by this process and by all other processes since it was made."""

    def __init__(self) -> None:
        self._wall, self._ours, self._all = time.perf_counter(), time.process_time(), _busy_cpu_s()

    def read(self) -> tuple[float, float, float]:
        """(wall seconds, CPU seconds of this process, CPU seconds of the other processes)"""
        ours = time.process_time() - self._ours
        others = max(0.0, _busy_cpu_s() - self._all - ours)
        return time.perf_counter() - self._wall, ours, others


def _thread_cpu_s() -> dict[int, float]:
    """CPU seconds per live thread of this process, by native thread id."""
    return {t.id: t.user_time + t.system_time for t in psutil.Process().threads()}


class StageCpu:
    """The CPU time each stage's jobs spend in their worker thread, by wrapping the
    runtime's stage handlers (time.thread_time: what a library does in threads of its own,
    an OpenCV or BLAS pool, is not counted here but under the other threads)."""

    def __init__(self, rt: Runtime) -> None:
        self.cpu: dict[str, list[float]] = {}
        self.workers: set[int] = set()
        self._lock = threading.Lock()
        for name, handler in list(rt.wiring.stages.items()):
            rt.wiring.stages[name] = self._timed(name, handler)

    def _timed(self, name: str, handler: Callable[[StageContext], None]) -> Callable:
        def run(ctx: StageContext) -> None:
            started = time.thread_time()
            try:
                handler(ctx)
            finally:
                spent = time.thread_time() - started
                with self._lock:
                    self.cpu.setdefault(name, []).append(spent)
                    self.workers.add(threading.get_native_id())

        return run


def run_pipeline(rt: Runtime, paths: list[Path], workers: int) -> tuple[list[str], dict]:
    """Import `paths` with `workers` consumer threads running; wait until all are done."""
    stage_cpu = StageCpu(rt)
    threads_before = _thread_cpu_s()
    rt.queue.start_consumer(workers)
    summary = ImportSummary()
    store_s = []
    meter = CpuMeter()
    first_store = now()
    with rt.session() as session:
        for candidate in walk(paths):
            started = time.perf_counter()
            import_file(session, blobs=rt.blobs, candidate=candidate, owner=None, summary=summary)
            store_s.append(time.perf_counter() - started)
    ids = summary.imported
    if len(ids) != len(paths):
        raise SystemExit(f"expected {len(paths)} new assets, got {len(ids)}: {summary}")
    while True:
        with rt.session() as session:
            busy = session.exec(
                select(Asset.id).where(
                    col(Asset.id).in_(ids), Asset.status == AssetStatus.processing
                )
            ).first()
        if busy is None:
            break
        # Each check is a (write-locking) SQLite transaction: poll gently. The end time comes
        # from Job.finished_at, not from this loop.
        time.sleep(0.1)
    _, cpu_ours, cpu_others = meter.read()
    threads = {tid: spent - threads_before.get(tid, 0.0) for tid, spent in _thread_cpu_s().items()}
    rt.queue.stop_consumer()
    main_thread = threading.main_thread().native_id
    in_workers = sum(spent for tid, spent in threads.items() if tid in stage_cpu.workers)
    in_stages = sum(sum(values) for values in stage_cpu.cpu.values())
    with rt.session() as session:
        jobs = list(session.exec(select(Job).where(col(Job.asset_id).in_(ids))))
        failed = list(
            session.exec(
                select(Asset).where(col(Asset.id).in_(ids), Asset.status != AssetStatus.ready)
            )
        )
    for asset in failed:
        print(f"  FAILED {asset.filename}: {asset.error}")
    last_ready = max(j.finished_at for j in jobs if j.finished_at is not None)
    stages: dict[str, list[float]] = {}
    for job in jobs:
        if job.status == JobStatus.done and job.duration_s is not None:
            stages.setdefault(job.stage, []).append(job.duration_s)
    return ids, {
        "stages": stages,
        "store_s": store_s,
        "elapsed_s": (last_ready - first_store).total_seconds(),
        "cpu_ours_s": cpu_ours,
        "cpu_others_s": cpu_others,
        "stage_cpu": stage_cpu.cpu,
        "cpu_main_s": threads.get(main_thread, 0.0),
        "cpu_bookkeeping_s": in_workers - in_stages,
        "cpu_other_threads_s": sum(
            spent
            for tid, spent in threads.items()
            if tid != main_thread and tid not in stage_cpu.workers
        ),
        "failed": len(failed),
    }


# --- 2. renditions stage against libvips, single-threaded --------------------------------------

Run = Callable[[], None]


def compare(
    rt: Runtime, ids: list[str], scratch: Path, *, with_faces: bool
) -> dict[str, dict[str, list[float]]]:
    """Per-image wall and CPU time of render_image() and of libvips making the same outputs."""
    import pyvips

    # libvips reads the very file the stage reads: the stored original.
    with rt.session() as session:
        sha = {a.id: a.sha256 for a in session.exec(select(Asset).where(col(Asset.id).in_(ids)))}
    paths = [rt.blobs.original_path(sha[asset_id]) for asset_id in ids]

    pyvips.concurrency_set(1)  # one thread per image, like one of our workers
    pyvips.cache_set_max(0)  # no decoded file reused between the three thumbnails

    def ours(asset_id: str, path: Path, out: Path) -> Run:
        ctx = StageContext(
            job_id="bench",
            asset_id=asset_id,
            runtime=rt,
            report_progress=lambda fraction: None,
        )
        return lambda: render_image(ctx)

    def vips(asset_id: str, path: Path, out: Path) -> Run:
        """The libvips way: thumbnail() from the file per output (shrink-on-load each)."""

        def run() -> None:
            for spec in IMAGE_RENDITIONS:
                image = pyvips.Image.thumbnail(str(path), spec.long_edge, height=spec.long_edge)
                _vips_save(image, out, spec.name, spec.extension)

        return run

    def vips_one_decode(asset_id: str, path: Path, out: Path) -> Run:
        """Like ours: one thumbnail() from the file, each smaller one from the one before."""

        def run() -> None:
            image = None
            for spec in IMAGE_RENDITIONS:
                if image is None:
                    image = pyvips.Image.thumbnail(str(path), spec.long_edge, height=spec.long_edge)
                else:
                    image = image.thumbnail_image(spec.long_edge, height=spec.long_edge)
                image = image.copy_memory()  # computed once, then reused for the next size
                _vips_save(image, out, spec.name, spec.extension)

        return run

    def faces(settings: Settings | None) -> Callable[[str, Path, Path], Run]:
        """The faces stage on the same file (after `ours` wrote its large rendition)."""

        def make(asset_id: str, path: Path, out: Path) -> Run:
            ctx = StageContext(
                job_id="bench",
                asset_id=asset_id,
                runtime=rt,
                report_progress=lambda fraction: None,
                settings=settings,  # type: ignore[arg-type]
            )
            return lambda: detect_asset_faces(ctx)

        return make

    contenders = {"ours": ours, "libvips": vips, "libvips one decode": vips_one_decode}
    if with_faces:
        contenders["faces"] = faces(None)
        contenders["faces before"] = faces(rt.settings.model_copy(update=FACES_BEFORE))
    times: dict[str, dict[str, list[float]]] = {
        name: {"wall": [], "cpu": []} for name in contenders
    }
    for index, (asset_id, path) in enumerate(zip(ids, paths, strict=True)):
        runs = {}
        for name, make in contenders.items():
            out = scratch / name.replace(" ", "-") / f"{index:03d}"
            out.mkdir(parents=True)
            runs[name] = make(asset_id, path, out)
        if index == 0:
            for run in runs.values():
                run()  # warm-up: imports, codec set-up; not counted
        # Rotate who goes first, so that none always runs right after the same neighbour
        # (the faces stage after ours: it reads the large rendition ours writes).
        order = [name for name in runs if not name.startswith("faces")]
        order = order[index % len(order) :] + order[: index % len(order)]
        for name in order:
            # CPU time of the whole process: libvips works in its own (single) pool thread.
            # Unlike wall time it does not grow when other processes take the cores.
            started, cpu = time.perf_counter(), time.process_time()
            runs[name]()
            times[name]["wall"].append(time.perf_counter() - started)
            times[name]["cpu"].append(time.process_time() - cpu)
        for name in [name for name in runs if name.startswith("faces")]:
            started, cpu = time.perf_counter(), time.process_time()
            runs[name]()
            times[name]["wall"].append(time.perf_counter() - started)
            times[name]["cpu"].append(time.process_time() - cpu)
    return times


def _vips_save(image: object, out: Path, name: str, extension: str) -> None:
    import pyvips

    assert isinstance(image, pyvips.Image)
    image.write_to_file(
        str(out / f"{name}.{extension}"), keep=pyvips.enums.ForeignKeep.NONE, **VIPS_SAVE[name]
    )


def output_lines(rt: Runtime, asset_id: str, vips_dir: Path) -> list[str]:
    """Our renditions of one file next to libvips's: size, bytes, PSNR between the two."""
    lines = []
    for spec in IMAGE_RENDITIONS:
        filename = f"{spec.name}.{spec.extension}"
        ours_path, vips_path = rt.blobs.derived_dir(asset_id) / filename, vips_dir / filename
        with Image.open(ours_path) as a, Image.open(vips_path) as b:
            a_size, b_size = a.size, b.size
            psnr = "n/a (sizes differ)"
            if a_size == b_size:
                diff = np.asarray(a.convert("RGB"), np.float64) - np.asarray(b.convert("RGB"))
                mse = float(np.mean(diff**2))
                psnr = f"{10 * np.log10(255**2 / mse):.1f} dB" if mse else "identical"
        lines.append(
            f"{filename:12s} ours {a_size[0]}x{a_size[1]} {ours_path.stat().st_size / 1e3:4.0f} kB"
            f" | libvips {b_size[0]}x{b_size[1]} {vips_path.stat().st_size / 1e3:4.0f} kB"
            f" | PSNR between them {psnr}"
        )
    return lines


# --- report ----------------------------------------------------------------------------------


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:5.0f} ms"


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def report_pipeline(pipe: dict, count: int, workers: int, faces: bool) -> None:
    per_s = count / pipe["elapsed_s"]
    cores = os.cpu_count() or 1
    stages = " -> ".join(builtin_wiring().pipeline_for(AssetKind.image))
    print(
        f"\nPipeline ({stages}; face detection {'on' if faces else 'off'}): {workers} worker "
        "threads, SQLite database, SQLite Huey queue"
    )
    print(f"  {'store (import_file, main thread)':34s} median {ms(pipe['store_s'])}")
    print(f"  {'':34s} wall: median         CPU: median    per photo")
    for stage, values in pipe["stages"].items():
        cpu = pipe["stage_cpu"].get(stage, [])
        cpu_text = f"{ms(cpu)}     {sum(cpu) / count * 1000:5.0f} ms" if cpu else ""
        print(f"  {stage:34s}       {ms(values)}         {cpu_text}  ({len(values)} jobs)")
    print(
        "  CPU per photo outside the stages: main thread (store, polling) "
        f"{pipe['cpu_main_s'] / count * 1000:.0f} ms, worker threads' job bookkeeping (claim, "
        f"record, schedule, change feed) {pipe['cpu_bookkeeping_s'] / count * 1000:.0f} ms, "
        "other threads (queue scheduler, sweeper, OpenCV/BLAS pools) "
        f"{pipe['cpu_other_threads_s'] / count * 1000:.0f} ms"
    )
    print(
        f"  end to end: {count} images in {pipe['elapsed_s']:.2f} s = {per_s:.2f} images/s "
        f"(first store to last ready), {pipe['failed']} failed "
        f"[target >= {TARGET_IMAGES_PER_S}: {verdict(per_s >= TARGET_IMAGES_PER_S)}]"
    )
    print(
        f"  CPU in that time: this process {pipe['cpu_ours_s']:.1f} s "
        f"({pipe['cpu_ours_s'] / pipe['elapsed_s']:.2f} of {cores} cores), other processes "
        f"{pipe['cpu_others_s']:.1f} s ({pipe['cpu_others_s'] / pipe['elapsed_s']:.2f} cores)"
    )
    per_image = pipe["cpu_ours_s"] / count
    print(
        f"  this process spent {per_image:.2f} CPU s per image: with {cores} cores to itself "
        f"that allows at most {cores / per_image:.2f} images/s"
    )


def rt_settings_line() -> str:
    defaults = Settings.model_fields
    return (
        f"face_max_edge_px {defaults['face_max_edge_px'].default}, face_whole_frame_px "
        f"{defaults['face_whole_frame_px'].default}, face_min_size_px "
        f"{defaults['face_min_size_px'].default}"
    )


def report_comparison(
    times: dict[str, dict[str, list[float]]], outputs: list[str], *, others_cores: float
) -> None:
    def ratio(a: str, b: str, kind: str, of: Callable[[list[float]], float]) -> float:
        return of(times[a][kind]) / of(times[b][kind])

    print(
        "\nRenditions stage vs libvips: same files, same outputs, single-threaded, workers\n"
        "stopped; per image, the three runs of each file back to back (who goes first\n"
        "rotates), the first file also run once before as warm-up. Wall time is what the\n"
        "target is about; CPU time (whole process) shows the same without other processes,\n"
        f"which kept {others_cores:.2f} cores busy meanwhile.\n"
        "  ours        render_image() called directly: open, decode (JPEG draft), orientation,\n"
        "              sRGB, resize, encode, placeholder, perceptual hash, write 3 files, DB\n"
        "  libvips     pyvips.Image.thumbnail(file) per output, then write_to_file:\n"
        "              2560 JPEG Q85 baseline no optimize_coding, 1600 WebP Q80 effort 2,\n"
        "              400 WebP Q75 effort 4; concurrency 1, operation cache off, keep=none\n"
        "  one decode  libvips again, but like ours: thumbnail(file, 2560), then\n"
        "              thumbnail_image() from the previous size (for information)\n"
        "                wall: median    total     CPU: median    total"
    )
    for name, label in (
        ("ours", "ours"),
        ("libvips", "libvips"),
        ("libvips one decode", "one decode"),
    ):
        wall, cpu = times[name]["wall"], times[name]["cpu"]
        print(
            f"  {label:11s}         {ms(wall)} {sum(wall):7.2f} s          {ms(cpu)} "
            f"{sum(cpu):7.2f} s   ({len(wall)} files)"
        )
    for name in ("faces", "faces before"):
        if name not in times:
            continue
        wall, cpu = times[name]["wall"], times[name]["cpu"]
        print(
            f"  {name:11s}         {ms(wall)} {sum(wall):7.2f} s          {ms(cpu)} "
            f"{sum(cpu):7.2f} s   ({len(wall)} files)"
        )
    if "faces" in times:
        print(
            "  faces       detect_asset_faces() after ours, on the same file: "
            f"{rt_settings_line()}\n"
            f"  faces before  the same stage with {FACES_BEFORE}"
        )
        for name in ("faces", "faces before"):
            cpu_ratio = ratio(name, "ours", "cpu", statistics.median)
            wall_ratio_faces = ratio(name, "ours", "wall", statistics.median)
            print(
                f"  {name} / ours (renditions): CPU median {cpu_ratio:.2f}x, wall median "
                f"{wall_ratio_faces:.2f}x [target <= {TARGET_FACES_RATIO}x: "
                f"{verdict(cpu_ratio <= TARGET_FACES_RATIO)} on CPU]"
            )
    wall_ratio = ratio("ours", "libvips", "wall", statistics.median)
    print(
        f"  ours / libvips: wall median {wall_ratio:.2f}x, total "
        f"{ratio('ours', 'libvips', 'wall', sum):.2f}x "
        f"[target <= {TARGET_RATIO}x: {verdict(wall_ratio <= TARGET_RATIO)}]; "
        f"CPU median {ratio('ours', 'libvips', 'cpu', statistics.median):.2f}x"
    )
    print(
        f"  ours / one decode: wall median "
        f"{ratio('ours', 'libvips one decode', 'wall', statistics.median):.2f}x, "
        f"CPU median {ratio('ours', 'libvips one decode', 'cpu', statistics.median):.2f}x"
    )
    print("  outputs of the first file:")
    for line in outputs:
        print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="number of photos (default 40)")
    parser.add_argument("--workers", type=int, default=2, help="consumer threads (default 2)")
    parser.add_argument(
        "--faces",
        action="store_true",
        help="also detect faces (DAM_FACE_DETECTION); off by default, so that the figures "
        "are those of the photo stages (the faces job still runs, as a no-op)",
    )
    parser.add_argument(
        "--faces-before",
        action="store_true",
        help="with --faces: first run the pipeline with the faces stage as it was before "
        f"issue 16 ({FACES_BEFORE}), in a data dir of its own, then as it is",
    )
    parser.add_argument(
        "--pipeline-only",
        action="store_true",
        help="only the pipeline figures, not the single-threaded comparison",
    )
    args = parser.parse_args()

    paths = ensure_photos(args.count)
    sizes = [p.stat().st_size / 1e6 for p in paths]
    print(
        f"{args.count} photos {WIDTH}x{HEIGHT} JPEG q{CAMERA_QUALITY}, {min(sizes):.1f}-"
        f"{max(sizes):.1f} MB (median {statistics.median(sizes):.1f} MB); {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    if args.faces and args.faces_before:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-before-") as temp:
            settings = load_settings(
                data_dir=Path(temp) / "data",
                database_url=None,
                queue_url=None,
                workers=args.workers,
                face_detection=True,
                face_key=base64.b64encode(secrets.token_bytes(32)).decode(),
                **FACES_BEFORE,
            )
            rt = build_runtime(settings)
            try:
                migrate.upgrade(rt.engine)
                print(f"\nBEFORE (faces stage with {FACES_BEFORE}):", end="")
                _ids, pipe = run_pipeline(rt, paths, args.workers)
                report_pipeline(pipe, args.count, args.workers, True)
            finally:
                rt.close()
        print(f"\nAFTER (faces stage as it is: {rt_settings_line()}); load average "
              f"{os.getloadavg()[0]:.2f}:", end="")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as temp:
        # Explicit values, so that DAM_* variables in the shell cannot change what is measured.
        settings = load_settings(
            data_dir=Path(temp) / "data",
            database_url=None,
            queue_url=None,
            workers=args.workers,
            face_detection=args.faces,
            face_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        )
        rt = build_runtime(settings)
        try:
            migrate.upgrade(rt.engine)
            ids, pipe = run_pipeline(rt, paths, args.workers)
            report_pipeline(pipe, args.count, args.workers, args.faces)
            if args.pipeline_only:
                return
            scratch = Path(temp) / "libvips"
            meter = CpuMeter()
            times = compare(rt, ids, scratch, with_faces=args.faces)
            wall, _, others = meter.read()
            outputs = output_lines(rt, ids[0], scratch / "libvips" / "000")
            report_comparison(times, outputs, others_cores=others / wall)
        finally:
            rt.close()


if __name__ == "__main__":
    main()
