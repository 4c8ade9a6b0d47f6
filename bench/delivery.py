"""Downloads for a channel: one `square` photo against libvips, and a 200-photo ZIP.

    .venv/bin/python bench/delivery.py [--photos 20] [--assets 200] [--singles 10]

1. Single download, `square` (1080 x 1080, JPEG q85, metadata written), from the same
   24 MP camera JPEGs (bench/ingest_images.py's, cached in .cache/): ours rendering from
   the original (dam.render: shrink-on-load, crop, resize, encode, pyexiv2 metadata),
   against libvips (pyvips `thumbnail` to the size that makes the same crop 1080 px,
   `crop`, `jpegsave` Q=85) producing the same crop. Also the whole API request (gate,
   audit, the `large` rendition as source when it holds enough pixels). Target: ours at
   most 1.5x libvips (median).
2. A ZIP of `--assets` photos in the `web` preset through POST /api/v1/downloads (inline
   queue: the job runs in this process), with this process's RSS sampled every 20 ms.
   Targets: at least 10 photos/s, RSS growth under 100 MB.

Wall time, CPU seconds of this process (user+sys, children included) and the load average
are printed: the machine is shared, so judge the wall times by them (the ZIP's CPU time a
photo also gives the rate with the job's worker cores to itself).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

import psutil  # noqa: E402
import pyvips  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from ingest_images import ensure_photos  # noqa: E402
from PIL import Image  # noqa: E402
from scratch import scratch_runtime  # noqa: E402

from dam import auth, clock, crops, file_metadata, presets, render  # noqa: E402
from dam.models import Asset, AssetKind, AssetStatus, Rendition, Role  # noqa: E402
from dam.runtime import Runtime  # noqa: E402
from gdpr.publishing import download_packing  # noqa: E402
from web.app import create_app  # noqa: E402

SINGLE_TARGET = 1.5
ZIP_TARGET_PER_S = 10.0
RSS_TARGET_MB = 100.0
META = file_metadata.FileMetadata(
    title="Bench",
    description="Een benchmarkfoto",
    alt_text="Een synthetisch beeld",
    keywords=("bench", "delivery"),
    creator="Bench",
    credit="Vlaamse overheid",
    copyright="CC0",
    usage_terms="Enkel intern",
    licence_url="https://example.org/licence",
    asset_id="bench",
    link="http://127.0.0.1:8000/assets/bench",
)


def cpu_s() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def upright(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        w, h, _ = render.upright_size(im)
    return w, h


def square_box(path: Path) -> crops.Box:
    w, h = upright(path)
    return crops.attention_crop(render.attention_map(path), w, h, 1.0).box


def ours(path: Path, out: Path, box: crops.Box) -> None:
    spec = presets.resolve("square", fmt=None, width=None, height=None, banner=(1920, 600))
    render.render(path, out, spec=spec, choose=lambda w, h: box, meta=META, max_pixels=10**9)


def vips(path: Path, out: Path, box: crops.Box) -> None:
    w, _ = upright(path)
    scale = 1080 / (box.w * w)
    width = math.ceil(w * scale)
    image = pyvips.Image.thumbnail(str(path), width, height=10**6)  # autorotates
    left = min(round(box.x * image.width), image.width - 1080)
    top = min(round(box.y * image.height), image.height - 1080)
    image.crop(left, top, 1080, 1080).jpegsave(str(out), Q=85, keep="none")


def timed(run: object, *args: object) -> tuple[float, float]:
    gc.collect()
    c, t = cpu_s(), time.perf_counter()
    run(*args)  # type: ignore[operator]
    return time.perf_counter() - t, cpu_s() - c


def singles(paths: list[Path], scratch: Path) -> dict[str, list[tuple[float, float]]]:
    results: dict[str, list[tuple[float, float]]] = {"ours": [], "vips": []}
    for i, path in enumerate(paths):
        box = square_box(path)  # the crop both produce (chosen once, not timed)
        for name, fn in (("ours", ours), ("vips", vips)):
            fn(path, scratch / f"warm-{name}.jpg", box)  # page cache and libraries warm
        for name, fn in (("vips", vips), ("ours", ours)):
            results[name].append(timed(fn, path, scratch / f"{name}-{i}.jpg", box))
    return results


def make_library(rt: Runtime, paths: list[Path], count: int) -> list[str]:
    """`count` ready photos cycling through `paths` (distinct originals: a few random bytes
    after the JPEG's end), each with its `large` rendition, cleared for `internal`."""
    larges: dict[Path, Path] = {}
    scratch = rt.blobs.root / "bench-large"
    scratch.mkdir(parents=True, exist_ok=True)
    for path in paths:
        with Image.open(path) as im:
            im.draft("RGB", (2560, 2560))
            image = im.convert("RGB")
            orientation = render.upright_size(im)[2]
        if orientation == 6:
            image = image.transpose(Image.Transpose.ROTATE_270)
        image.thumbnail((2560, 2560), Image.Resampling.LANCZOS)
        larges[path] = scratch / f"{path.stem}.jpg"
        image.save(larges[path], "JPEG", quality=85)
    ids = []
    with rt.unit_of_work() as session:
        for n in range(count):
            path = paths[n % len(paths)]
            stored = rt.blobs.put_stream([path.read_bytes(), secrets.token_bytes(16)])
            w, h = upright(path)
            asset = Asset(
                kind=AssetKind.image,
                status=AssetStatus.ready,
                filename=f"bench-{n:03d}.jpg",
                mime="image/jpeg",
                size=stored.size,
                sha256=stored.sha256,
                width=w,
                height=h,
                title=f"Bench {n}",
                alt_text="Een synthetisch beeld",
                faces_checked_at=clock.now(),
            )
            session.add(asset)
            session.flush()
            derived = rt.blobs.derived_dir(asset.id)
            derived.mkdir(parents=True, exist_ok=True)
            target = derived / "large.jpg"
            shutil.copyfile(larges[path], target)
            with Image.open(target) as im:
                lw, lh = im.size
            session.add(
                Rendition(
                    asset_id=asset.id,
                    name="large",
                    mime="image/jpeg",
                    width=lw,
                    height=lh,
                    size=target.stat().st_size,
                    sha256=secrets.token_hex(32),
                    path=str(target.relative_to(rt.blobs.root)),
                )
            )
            ids.append(asset.id)
    return ids


class RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--singles", type=int, default=10)
    args = parser.parse_args()
    paths = ensure_photos(args.photos)
    print(f"load before: {load()}  (cores: {os.cpu_count()})")

    with tempfile.TemporaryDirectory() as tmp:
        res = singles(paths[: args.singles], Path(tmp))
    med = {k: statistics.median(w for w, _ in v) for k, v in res.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in res.items()}
    ratio = med["ours"] / med["vips"]
    print(
        "\n1. one `square` download (1080x1080 JPEG q85) from a 24 MP JPEG, median of",
        len(res["ours"]),
    )
    print(
        f"   libvips thumbnail+crop+save  {med['vips'] * 1000:7.1f} ms wall  "
        f"{cpu['vips'] * 1000:7.1f} ms CPU"
    )
    print(
        f"   ours render+metadata         {med['ours'] * 1000:7.1f} ms wall  "
        f"{cpu['ours'] * 1000:7.1f} ms CPU"
    )
    print(
        f"   ratio {ratio:.2f} wall, {cpu['ours'] / cpu['vips']:.2f} CPU "
        f"(target <= {SINGLE_TARGET}): "
        f"{'OK' if ratio <= SINGLE_TARGET else 'MISSED'}   load {load()}"
    )

    with scratch_runtime("sqlite") as rt:
        ids = make_library(rt, paths, args.assets)
        with rt.unit_of_work() as session:
            user = auth.create_user(
                session,
                email="bench@example.test",
                password="correct horse battery",  # noqa: S106 - a throw-away bench user
                role=Role.creative,
            )
            token = auth.create_token(session, user=user, name="bench")
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(rt)) as client:
            # The API request for one square (gate, audit, large rendition as source).
            api = []
            for asset_id in ids[: args.singles]:
                url = f"/api/v1/assets/{asset_id}/download?channel=internal&preset=square"
                client.get(url, headers=headers)
                api.append(timed(lambda u=url: client.get(u, headers=headers)))
            print(
                "   whole API request (square)   "
                f"{statistics.median(w for w, _ in api) * 1000:7.1f} ms wall  "
                f"{statistics.median(c for _, c in api) * 1000:7.1f} ms CPU"
            )

            gc.collect()
            sampler = RssSampler()
            before = sampler.proc.memory_info().rss
            sampler.start()
            c, t = cpu_s(), time.perf_counter()
            made = client.post(
                "/api/v1/downloads",
                headers=headers,
                json={"asset_ids": ids, "channel": "internal", "preset": "web"},
            )
            wall, spent = time.perf_counter() - t, cpu_s() - c
            sampler.stop.set()
            sampler.join()
            body = client.get(f"/api/v1/downloads/{made.json()['id']}", headers=headers).json()
            size = 0
            with client.stream("GET", body["file_url"], headers=headers) as response:
                for chunk in response.iter_bytes():
                    size += len(chunk)
        growth = (sampler.peak - before) / 2**20
        rate = body["included"] / wall
        print(
            f"\n2. ZIP of {len(ids)} photos, `web` preset: status {body['status']}, "
            f"{body['included']} included, {size / 2**20:.1f} MB"
        )
        print(
            f"   {wall:.1f} s wall, {spent:.1f} s CPU, {rate:.1f} photos/s "
            f"(target >= {ZIP_TARGET_PER_S}): {'OK' if rate >= ZIP_TARGET_PER_S else 'MISSED'}"
        )
        per_photo = spent / max(1, body["included"])
        cores = min(os.cpu_count() or 1, download_packing.WORKERS)
        print(
            f"   {per_photo * 1000:.0f} ms CPU a photo: {cores / per_photo:.1f} photos/s "
            f"with {cores} cores to itself"
        )
        print(
            f"   RSS {before / 2**20:.0f} MB before, peak +{growth:.0f} MB "
            f"(target < {RSS_TARGET_MB}): {'OK' if growth < RSS_TARGET_MB else 'MISSED'}"
            f"   load {load()}"
        )


if __name__ == "__main__":
    main()
