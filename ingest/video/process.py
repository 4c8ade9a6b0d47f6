"""Running ffmpeg as a hardened child process.

- Only argument lists built by `ingest.video.commands` run; no shell, no user input.
- Low priority (nice 19) and an address-space cap, set in the child before ffmpeg starts
  by a tiny launcher (no preexec_fn: job runners are threads, and fork-with-callback is
  unsafe there), which also makes ffmpeg die with its parent (ingest.video.launch).
- A wall-clock limit; the whole process group is killed when it passes, when the job is
  cancelled, or when the caller fails.
- Progress arrives on its own pipe (`-progress pipe:N`), so stdout stays free for frames.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.video import launch, limits
from ingest.video.progress import ProgressParser

log = logging.getLogger(__name__)

NICENESS = 19
PROGRESS_FD_PLACEHOLDER = "pipe:PROGRESS"


class FfmpegFailed(Exception):
    """ffmpeg ended with an error; `tail` holds its last words (for the log only)."""

    def __init__(self, returncode: int, tail: str) -> None:
        super().__init__(f"ffmpeg exited with {returncode}")
        self.returncode = returncode
        self.tail = tail


class FfmpegTimedOut(FfmpegFailed):
    pass


@dataclass
class Run:
    """One ffmpeg invocation and what the caller wants to hear from it."""

    args: list[str]  # starting with the binary; PROGRESS_FD_PLACEHOLDER marks -progress
    time_limit_s: float
    # Called about once a second with the output time in seconds (None before the first
    # report); it may raise to stop ffmpeg (cancellation), which is re-raised here.
    tick: Callable[[float | None], None] = field(default=lambda _s: None)
    # Raw stdout (for example rawvideo frames), in chunks as they arrive.
    on_stdout: Callable[[bytes], None] | None = None
    memory_bytes: int = limits.FFMPEG_MEMORY_BYTES
    # How many of ffmpeg's last stderr lines to keep; after the run they are in `stderr`.
    stderr_lines: int = 8
    stderr: str = ""


def run(job: Run) -> None:
    """Run ffmpeg to the end, or kill it; raises FfmpegFailed / FfmpegTimedOut."""
    read_fd, write_fd = os.pipe()
    args = [a.replace(PROGRESS_FD_PLACEHOLDER, f"pipe:{write_fd}") for a in job.args]
    # The launcher lowers the priority, caps memory and ties ffmpeg to this process (it
    # dies with it), then becomes ffmpeg. The child is a session of its own, so that it
    # can be killed as a group.
    command = launch.command(args, memory=job.memory_bytes, niceness=NICENESS)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if job.on_stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,  # its own process group, killed as one
        )
    except BaseException:
        os.close(read_fd)
        os.close(write_fd)
        raise
    os.close(write_fd)
    events: queue.Queue[float | None] = queue.Queue()
    tail: deque[str] = deque(maxlen=job.stderr_lines)
    readers = [
        threading.Thread(target=_read_progress, args=(read_fd, events), daemon=True),
        threading.Thread(target=_read_stderr, args=(process, tail), daemon=True),
    ]
    sink_errors: list[BaseException] = []
    if job.on_stdout is not None:
        readers.append(
            threading.Thread(
                target=_read_stdout, args=(process, job.on_stdout, sink_errors), daemon=True
            )
        )
    for reader in readers:
        reader.start()
    try:
        _supervise(process, job, events)
    except BaseException:
        _kill(process)
        raise
    finally:
        for reader in readers:
            reader.join(timeout=10)
    job.stderr = "\n".join(tail)
    # The last progress block may be parsed only after ffmpeg exited (its reader is a
    # thread): report the final output time now that every reader is done.
    final = None
    while not events.empty():
        final = events.get_nowait()
    if final is not None:
        job.tick(final)
    if sink_errors:
        raise sink_errors[0]
    if process.returncode != 0:
        raise FfmpegFailed(process.returncode, job.stderr)


def _supervise(
    process: subprocess.Popen[bytes], job: Run, events: queue.Queue[float | None]
) -> None:
    deadline = time.monotonic() + job.time_limit_s
    last_tick = 0.0
    latest: float | None = None
    while True:
        # Waiting on the process (not on the progress queue) returns the moment it ends.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.25)
        while not events.empty():
            latest = events.get_nowait()
        now = time.monotonic()
        if process.returncode is not None:
            job.tick(latest)
            return
        if now > deadline:
            _kill(process)
            raise FfmpegTimedOut(-9, f"killed after {job.time_limit_s:.0f} s")
        if now - last_tick >= limits.REPORT_INTERVAL_S:
            last_tick = now
            job.tick(latest)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)


def _read_progress(fd: int, events: queue.Queue[float | None]) -> None:
    parser = ProgressParser()
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as stream:
        for line in stream:
            seconds = parser.feed(line)
            if seconds is not None:
                events.put(seconds)


def _read_stderr(process: subprocess.Popen[bytes], tail: deque[str]) -> None:
    assert process.stderr is not None
    for raw in process.stderr:
        # Printable and short: ffmpeg's messages, never a flood of whatever a file holds.
        text = "".join(ch for ch in raw.decode("utf-8", "replace") if ch.isprintable())
        if text.strip():
            tail.append(text[:200])


def _read_stdout(
    process: subprocess.Popen[bytes],
    sink: Callable[[bytes], None],
    errors: list[BaseException],
) -> None:
    assert process.stdout is not None
    try:
        while chunk := process.stdout.read(1 << 20):
            sink(chunk)
    except Exception as exc:
        # ffmpeg would block on a full pipe nobody reads: stop it, report the cause.
        errors.append(exc)
        _kill(process)
