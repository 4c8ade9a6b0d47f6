"""Faults against a real `dam serve`: kill -9 mid-ingest, a full disk, two 196 MP bombs.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/faults.py [--only crash|disk|memory]

Each scenario starts `dam serve` in a subprocess on a fresh data dir (SQLite, SQLite
queue, Tantivy), talks to it over HTTP on 127.0.0.1 only, and prints its figures:

- crash: 20 photos and a video uploaded, kill -9 while the video is transcoding (and a
  multipart upload is half sent), whether ffmpeg outlived the server, the leftovers in
  data/tmp, then the time from the restart until every asset is ready or failed;
- disk: the data dir on a 64 MB tmpfs (`mount -t tmpfs`, root only; skipped with the
  reason otherwise): uploads until the disk is full (507 vs 500), an upload that runs
  into ENOSPC mid-write, /readyz, then space freed: jobs, search and uploads recover;
- memory: two JPEGs whose headers claim 14,000 × 14,000 pixels (196 MP): the cut-off
  ones (a few hundred bytes), then progressive ones padded past the cut-off check,
  with the default budget and with DAM_JOB_MEMORY_MB=1024: peak RSS growth of the
  server process and its children (psutil).

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from PIL import Image, ImageDraw

from ingest.ffmpeg import ffmpeg_binary

ROOT = Path(__file__).resolve().parent.parent
DAM = [sys.executable, "-c", "from dam.cli import main; main()"]
EMAIL = "bench@example.test"
PASSWORD = "correct horse battery staple"  # noqa: S105 (a throw-away account)


# --- the server ----------------------------------------------------------------------


@dataclass
class Server:
    data_dir: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    token: str = ""
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data_dir.parent / f"{self.data_dir.name}-serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [*DAM, *args], env=self.env, input=stdin, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def create_account(self) -> None:
        self.cli(
            "user", "add", "--email", EMAIL, "--role", "admin", "--password-stdin", stdin=PASSWORD
        )
        self.token = self.cli("token", "create", "--email", EMAIL).splitlines()[-1]

    def start(self) -> float:
        """Start `dam serve`; returns the moment (monotonic) it answered /healthz. A restart
        keeps the port, so clients made before it reach the new process."""
        self.port = self.port or free_port()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*DAM, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300  # a loaded 2-core machine starts slowly
        while time.monotonic() < deadline:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.monotonic()
            if self.process.poll() is not None:
                raise RuntimeError(f"dam serve exited; see {self.log}")
            time.sleep(0.1)
        raise RuntimeError(f"dam serve did not answer; see {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self, timeout: float = 60) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout
        )


def make_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAM_")}
    env.update(
        PYTHONPATH=str(ROOT),
        DAM_DATA_DIR=str(data_dir),
        DAM_LOG_LEVEL="WARNING",
        DAM_WORKERS="2",
        DAM_SWEEP_INTERVAL_S="10",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(data_dir: Path, **extra: str) -> Iterator[Server]:
    data_dir.mkdir(parents=True, exist_ok=True)
    srv = Server(data_dir, make_env(data_dir, **extra))
    srv.create_account()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


# --- media -----------------------------------------------------------------------------


def photo(seed: int, size: tuple[int, int] = (2400, 1600)) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse(
            (x, y, x + rng.randrange(20, 400), y + rng.randrange(20, 400)),
            fill=tuple(rng.randrange(256) for _ in range(3)),
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def video(path: Path, seconds: int = 40, size: str = "1920x1080") -> Path:
    binary = ffmpeg_binary()
    if binary is None:
        raise SystemExit("ffmpeg is needed for the crash scenario (apt-get install ffmpeg)")
    subprocess.run(
        [
            binary, "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def bomb(*, progressive: bool, pad_to: int = 0, seed: int = 0) -> bytes:
    """A small JPEG whose frame header claims 14,000 × 14,000 pixels (196 MP)."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), ((seed * 97) % 256, 100, 50)).save(
        out, "JPEG", progressive=progressive, quality=50
    )
    data = bytearray(out.getvalue())
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[i + 5 : i + 9] = struct.pack(">HH", 14_000, 14_000)
            break
        i += 2 + length
    if pad_to > len(data):
        # Entropy-coded garbage before the end marker: the decoder reads it as image data.
        end = data[-2:]
        del data[-2:]
        rng = random.Random(seed)
        data += bytes(rng.randrange(0, 255) for _ in range(pad_to - len(data) - 2))
        data += end
    return bytes(data)


# --- helpers ---------------------------------------------------------------------------


def upload(
    client: httpx.Client, name: str, data: bytes, mime: str = "image/jpeg"
) -> httpx.Response:
    return client.post("/api/v1/assets", files={"file": (name, data, mime)}, data={"title": name})


def statuses(client: httpx.Client, ids: list[str]) -> dict[str, str]:
    found = {}
    for asset_id in ids:
        response = client.get(f"/api/v1/assets/{asset_id}")
        found[asset_id] = response.json().get("status", "?") if response.status_code == 200 else "?"
    return found


def wait_settled(
    client: httpx.Client, ids: list[str], timeout: float
) -> tuple[float, Counter[str]]:
    started = time.monotonic()
    now: dict[str, str] = {}
    while True:
        with suppress(httpx.HTTPError):
            now = statuses(client, ids)
            if all(s in ("ready", "failed") for s in now.values()):
                return time.monotonic() - started, Counter(now.values())
        if time.monotonic() - started > timeout:
            return float("inf"), Counter(now.values())
        time.sleep(0.5)


def tmp_entries(data_dir: Path) -> list[tuple[str, int]]:
    found = []
    for folder in ("tmp", "uploads"):
        for entry in (data_dir / folder).glob("*"):
            size = (
                entry.stat().st_size
                if entry.is_file()
                else sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
            )
            found.append((f"{folder}/{entry.name}", size))
    return found


def mb(size: float) -> str:
    return f"{size / 1024**2:.1f} MB"


def tree_rss(pid: int) -> int:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


# --- crash -----------------------------------------------------------------------------


def crash_scenario(work: Path) -> None:
    print("== kill -9 during a 20-photo + video ingest ==")
    data_dir = work / "crash"
    clip = video(work / "clip.mp4", seconds=10, size="1280x720")
    photos = [photo(seed, (1600, 1067)) for seed in range(20)]
    with server(data_dir) as srv, srv.client() as client:
        ids = [upload(client, f"photo-{i}.jpg", data).json()["id"] for i, data in enumerate(photos)]
        ids.append(upload(client, "clip.mp4", clip.read_bytes(), "video/mp4").json()["id"])
        ffmpeg_pids = wait_for_ffmpeg(srv)
        half_sent = start_half_upload(srv)
        time.sleep(1.0)
        before = statuses(client, ids)
        running_then = _running_jobs(client, [i for i, s in before.items() if s == "processing"])
        assert srv.process is not None
        srv.process.kill()  # SIGKILL
        srv.process.wait()
        srv.process = None
        half_sent.join(5)
        time.sleep(1.0)
        survivors = [pid for pid in ffmpeg_pids if psutil.pid_exists(pid) and _is_ffmpeg(pid)]
        left = tmp_entries(data_dir)
        print(f"  at the kill: {Counter(before.values())}")
        print(
            f"  ffmpeg children running at the kill: {len(ffmpeg_pids)}; "
            f"alive after it: {len(survivors)}"
        )
        print(f"  leftovers after the kill: {len(left)} ({mb(sum(s for _, s in left))})")
        for pid in survivors:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        check = subprocess.run(
            [*DAM, "check", "--quick"], env=srv.env, capture_output=True, text=True
        )
        reported = sum(line.startswith("leftover temp file") for line in check.stdout.splitlines())
        print(f"  `dam check` reports {reported} leftover(s), exit {check.returncode}")
        restart_wall = datetime.now(UTC)
        restarted = srv.start()
        _, outcome = wait_settled(client, ids, timeout=600)
        settled_after = time.monotonic() - restarted
        count, taken = _taken_over(client, running_then, restart_wall)
        print(
            f"  jobs running at the kill: {len(running_then)}; {count} claimed again, the last "
            f"{taken:.1f} s after the restart command (the stale timeout would be 600 s)"
        )
        left_after = [e for e in tmp_entries(data_dir) if e[0].startswith(("tmp/in-", "uploads/"))]
        print(
            f"  time from restart to all {len(ids)} assets settled: {settled_after:.1f} s "
            f"{dict(outcome)}"
        )
        print(f"  spool leftovers after the restart: {len(left_after)}")


def _running_jobs(client: httpx.Client, asset_ids: list[str]) -> dict[str, tuple[str, int]]:
    """Job id -> (asset id, attempts) of these assets' jobs the database has as running."""
    found = {}
    for asset_id in asset_ids:
        for job in client.get("/api/v1/jobs", params={"asset_id": asset_id}).json():
            if job["status"] == "running":
                found[job["id"]] = (asset_id, job["attempts"])
    return found


def _taken_over(
    client: httpx.Client, jobs: dict[str, tuple[str, int]], since: datetime
) -> tuple[int, float]:
    """How many of `jobs` were claimed again, and seconds from `since` to the last claim."""
    latest, count = since, 0
    for asset_id in {a for a, _ in jobs.values()}:
        for job in client.get("/api/v1/jobs", params={"asset_id": asset_id}).json():
            if job["id"] in jobs and job["attempts"] > jobs[job["id"]][1] and job["started_at"]:
                latest = max(latest, datetime.fromisoformat(job["started_at"]))
                count += 1
    return count, (latest - since).total_seconds()


def wait_for_ffmpeg(srv: Server, timeout: float = 120) -> list[int]:
    assert srv.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [
            p.pid
            for p in psutil.Process(srv.process.pid).children(recursive=True)
            if _is_ffmpeg(p.pid)
        ]
        if pids:
            return pids
        time.sleep(0.2)
    return []


def _is_ffmpeg(pid: int) -> bool:
    with suppress(psutil.Error):
        return "ffmpeg" in psutil.Process(pid).name()
    return False


def start_half_upload(srv: Server) -> threading.Thread:
    """A multipart upload of 64 MB that sends half, then stalls (cut off by the kill)."""
    boundary = secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head + photo(99)
        for _ in range(32):
            yield os.urandom(1024 * 1024)
        time.sleep(30)

    def send() -> None:
        with suppress(httpx.HTTPError), srv.client(timeout=40) as client:
            client.post(
                "/api/v1/assets",
                content=body(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


# --- disk ------------------------------------------------------------------------------


def disk_scenario(work: Path) -> None:
    print("== a full disk (64 MB tmpfs) ==")
    mount = work / "disk"
    mount.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(f"  skipped: cannot mount a tmpfs ({done.stderr.strip() or 'not root'})")
        return
    try:
        _disk_full(mount / "data")
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _disk_full(data_dir: Path) -> None:
    codes: Counter[int] = Counter()
    ids: list[str] = []
    with (
        server(data_dir, DAM_MIN_FREE_MB="8", DAM_FACE_DETECTION="false") as srv,
        srv.client() as client,
    ):
        seed = 0
        while codes[507] < 3 and seed < 200:
            response = upload(client, f"fill-{seed}.jpg", photo(1000 + seed, (3000, 2000)))
            codes[response.status_code] += 1
            if response.status_code in (200, 201):
                ids.append(response.json()["id"])
            seed += 1
        print(f"  uploads until refused: {dict(codes)} (507 storage_full vs 500)")
        body = response.json()
        print(f"  refusal body: {body['error']['code']}: {body['error']['message'][:70]}...")
        ready = client.get("/readyz")
        print(
            f"  /readyz: {ready.status_code} "
            f"storage={ready.json()['parts'].get('storage', '?')[:80]}"
        )
        # Below the guard's threshold: a chunked upload (no length to judge it by) that
        # runs into the end of the disk mid-write.
        filler = data_dir / "filler"
        subprocess.run(
            ["dd", "if=/dev/zero", f"of={filler}", "bs=1M", "count=1000"],
            capture_output=True,
            check=False,
        )
        # Give back 12 MB: above the 8 MB minimum, so the guard lets a body of unknown
        # length in, and less than the 20 MB it sends.
        os.truncate(filler, max(0, filler.stat().st_size - 12 * 1024**2))
        before = {n for n, _ in tmp_entries(data_dir)}
        chunked = client.post(
            "/api/v1/assets",
            content=_chunked_multipart(20),
            headers={"Content-Type": "multipart/form-data; boundary=bench"},
        )
        after = {n for n, _ in tmp_entries(data_dir)} - before
        print(
            f"  chunked upload into a full disk: {chunked.status_code} "
            f"{chunked.json().get('error', {}).get('code')}; partial files left: {len(after)}"
        )
        processing = Counter(statuses(client, ids).values())
        print(f"  assets while full: {dict(processing)}")
        # Space comes back: the filler goes, and the disk grows (as an operator would add
        # storage); nothing is restarted.
        filler.unlink()
        subprocess.run(["mount", "-o", "remount,size=512m", str(data_dir.parent)], check=False)
        freed_at = time.monotonic()
        _, outcome = wait_settled(client, ids, timeout=300)
        print(
            f"  space freed: all {len(ids)} assets settled after "
            f"{time.monotonic() - freed_at:.1f} s {dict(outcome)}"
        )
        ready = client.get("/readyz")
        print(f"  /readyz after freeing: {ready.status_code}")
        found = _search_total(client, "fill")
        print(f"  search for the uploaded titles: {found} hit(s) of {len(ids)}")
        again = upload(client, "after.jpg", photo(4242))
        print(f"  upload after freeing: {again.status_code}")


def _search_total(client: httpx.Client, query: str, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        response = client.get("/api/v1/search", params={"q": query, "per_page": 1})
        total = response.json().get("total", 0) if response.status_code == 200 else 0
        if total:
            return int(total)
        time.sleep(1)
    return int(total)


def _chunked_multipart(megabytes: int) -> Iterator[bytes]:
    yield (
        b'--bench\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
    ) + photo(7)
    for _ in range(megabytes):
        yield os.urandom(1024 * 1024)
    yield b"\r\n--bench--\r\n"


# --- memory ----------------------------------------------------------------------------


def memory_scenario(work: Path) -> None:
    print("== two JPEGs whose headers claim 14,000 x 14,000 (196 MP) ==")
    cases = [
        ("cut-off (header only)", {}, lambda s: bomb(progressive=True, seed=s)),
        (
            "progressive, padded past the check",
            {},
            lambda s: bomb(progressive=True, pad_to=700_000, seed=s),
        ),
        (
            "progressive, padded, DAM_JOB_MEMORY_MB=1024",
            {"DAM_JOB_MEMORY_MB": "1024"},
            lambda s: bomb(progressive=True, pad_to=700_000, seed=s),
        ),
    ]
    for index, (label, extra, make) in enumerate(cases):
        with server(work / f"memory-{index}", **extra) as srv, srv.client() as client:
            assert srv.process is not None
            time.sleep(2)
            baseline = tree_rss(srv.process.pid)
            peak = baseline
            files = [make(seed) for seed in (1, 2)]
            ids = [
                upload(client, f"bomb-{i}.jpg", data).json()["id"] for i, data in enumerate(files)
            ]
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                peak = max(peak, tree_rss(srv.process.pid))
                now = statuses(client, ids)
                if all(s in ("ready", "failed") for s in now.values()):
                    break
                time.sleep(0.05)
            errors = [client.get(f"/api/v1/assets/{i}").json().get("error") or "" for i in ids]
            print(
                f"  {label}: {len(files[0])} bytes each; peak RSS growth {mb(peak - baseline)} "
                f"(baseline {mb(baseline)}); outcome {dict(Counter(now.values()))}"
            )
            if errors[0]:
                print(f"    message: {errors[0][:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["crash", "disk", "memory"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    try:
        if args.only in (None, "memory"):
            memory_scenario(work)
        if args.only in (None, "crash"):
            crash_scenario(work)
        if args.only in (None, "disk"):
            disk_scenario(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
