"""Upload throughput and server memory: one large file, multipart and tus, over loopback.

    .venv/bin/python bench/upload.py [--size-mb 2048] [--chunk-mb 64]

Starts the app under uvicorn in a subprocess (a fresh data dir in a temp folder, SQLite,
the default SQLite job queue, no job consumers so processing does not muddy the figures),
uploads the file once as multipart/form-data and once with tus, and prints MiB/s and the
growth of the server's resident memory. Not part of the test run.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import psutil
from PIL import Image
from tusclient import client as tus_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024
READ_CHUNK = 4 * MiB
TARGET_MIB_S = 150
TARGET_RSS_MIB = 64


@dataclass
class Result:
    name: str
    seconds: float
    size: int
    rss_growth: int
    server_cpu: float  # seconds of CPU the server used: shows whether it is the bottleneck
    slowest_ping: float  # seconds: how long the upload kept another request waiting

    @property
    def mib_s(self) -> float:
        return self.size / MiB / self.seconds


def make_file(path: Path, size: int) -> None:
    """A real JPEG header (so sniffing accepts it) followed by random filler."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 40)).save(buffer, "JPEG")
    block = os.urandom(16 * MiB)
    with path.open("wb") as fh:
        fh.write(buffer.getvalue())
        while (left := size - fh.tell()) > 0:
            fh.write(block[: min(left, len(block))])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(env: dict[str, str]) -> str:
    """Migrate the fresh database and return an API token for a new creative."""
    os.environ.update(env)
    from dam import auth, migrate
    from dam.models import Role
    from dam.runtime import build_runtime
    from dam.settings import load_settings

    rt = build_runtime(load_settings())
    try:
        migrate.upgrade(rt.engine)
        with rt.unit_of_work() as session:
            user = auth.create_user(
                session,
                email="bench@example.test",
                password=secrets.token_hex(16),
                role=Role.creative,
            )
            return auth.create_token(session, user=user, name="bench")
    finally:
        rt.close()


def serve(port: int) -> None:
    """What `dam serve` does, minus job consumers: the runtime's app under uvicorn."""
    import uvicorn

    from dam.runtime import build_runtime
    from dam.settings import load_settings
    from web.app import create_app

    rt = build_runtime(load_settings())
    try:
        uvicorn.run(create_app(rt), host="127.0.0.1", port=port, log_level="warning")
    finally:
        rt.close()


class PeakRss:
    """Samples a process's resident memory every 20 ms and keeps the highest value."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class SlowestPing:
    """Times GET /healthz every 50 ms: an upload must not stall the server's event loop."""

    def __init__(self, base: str) -> None:
        self.url = f"{base}/healthz"
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=120) as client:
            while not self._stop.wait(0.05):
                started = time.perf_counter()
                client.get(self.url)
                self.slowest = max(self.slowest, time.perf_counter() - started)

    def __enter__(self) -> SlowestPing:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def multipart_body(path: Path, boundary: str) -> tuple[int, Iterator[bytes]]:
    """The body's length and a generator that reads the file in chunks as it is sent."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        with path.open("rb") as fh:
            while chunk := fh.read(READ_CHUNK):
                yield chunk
        yield tail

    return len(head) + path.stat().st_size + len(tail), chunks()


def upload_multipart(base: str, token: str, path: Path) -> str:
    boundary = secrets.token_hex(16)
    length, body = multipart_body(path, boundary)
    response = httpx.post(
        f"{base}/api/v1/assets",
        content=body,
        timeout=600,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Length": str(length),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    if response.status_code not in (200, 201):
        raise SystemExit(f"multipart upload failed: {response.status_code} {response.text}")
    return str(response.json()["id"])


def upload_tus(base: str, token: str, path: Path, chunk_size: int) -> str:
    tc = tus_client.TusClient(
        f"{base}/api/v1/uploads", headers={"Authorization": f"Bearer {token}"}
    )
    uploader = tc.uploader(
        file_path=str(path), chunk_size=chunk_size, metadata={"filename": path.name}
    )
    uploader.upload()
    assert uploader.request is not None
    return str(uploader.request.response_headers["beeldbank-asset-id"])


def measure(
    name: str, base: str, server: psutil.Process, size: int, run: Callable[[], object]
) -> Result:
    cpu_before = sum(server.cpu_times()[:4])
    with PeakRss(server) as rss, SlowestPing(base) as ping:
        baseline = rss.peak
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    cpu = sum(server.cpu_times()[:4]) - cpu_before
    return Result(name, seconds, size, rss.peak - baseline, cpu, ping.slowest)


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start within 30 s")


def warm_up(base: str, token: str, folder: Path, chunk_size: int) -> None:
    """Small uploads first, so the baseline includes imports and caches, not the upload."""
    small = folder / "warm.jpg"
    make_file(small, 3 * MiB)
    upload_multipart(base, token, small)
    with small.open("r+b") as fh:  # different content, so tus does not find a duplicate
        fh.seek(-1, os.SEEK_END)
        fh.write(b"\x01")
    upload_tus(base, token, small, chunk_size)
    small.unlink()


def report(results: list[Result]) -> None:
    print()
    print(
        f"{'method':<12}{'size':>12}{'seconds':>10}{'MiB/s':>10}{'RSS growth':>14}"
        f"{'server CPU':>12}{'slowest ping':>14}  verdict"
    )
    for r in results:
        ok = r.mib_s >= TARGET_MIB_S and r.rss_growth < TARGET_RSS_MIB * MiB
        print(
            f"{r.name:<12}{r.size / MiB:>8.0f} MiB{r.seconds:>10.1f}{r.mib_s:>10.1f}"
            f"{r.rss_growth / MiB:>10.1f} MiB{r.server_cpu:>10.1f} s"
            f"{r.slowest_ping * 1000:>11.0f} ms  {'ok' if ok else 'MISSED'}"
        )
    print(f"targets: at least {TARGET_MIB_S} MiB/s, RSS growth under {TARGET_RSS_MIB} MiB")
    # Client and server share this machine's cores, and so does anything else running.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048, help="file size in MiB")
    parser.add_argument("--chunk-mb", type=int, default=64, help="tus PATCH size in MiB")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    folder = Path(tempfile.mkdtemp(prefix="beeldbank-bench-"))
    env = {"DAM_DATA_DIR": str(folder / "data"), "DAM_WORKERS": "0", "DAM_LOG_LEVEL": "WARNING"}
    for name in ("DAM_DATABASE_URL", "DAM_QUEUE_URL"):  # the defaults: SQLite for both
        os.environ.pop(name, None)
    server: subprocess.Popen[bytes] | None = None
    try:
        token = prepare(env)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port)], env={**os.environ, **env}, cwd=ROOT
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server)
        chunk_size = args.chunk_mb * MiB
        warm_up(base, token, folder, chunk_size)

        size = args.size_mb * MiB
        big = folder / "big.jpg"
        print(f"writing a {args.size_mb} MiB test file to {big} ...", flush=True)
        make_file(big, size)
        process = psutil.Process(server.pid)
        multipart_run = partial(upload_multipart, base, token, big)
        results = [measure("multipart", base, process, size, multipart_run)]
        with big.open("r+b") as fh:  # tus gets different content, not a duplicate
            fh.seek(-1, os.SEEK_END)
            fh.write(b"\x02")
        tus_run = partial(upload_tus, base, token, big, chunk_size)
        results.append(measure(f"tus {args.chunk_mb}M", base, process, size, tus_run))
        report(results)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
