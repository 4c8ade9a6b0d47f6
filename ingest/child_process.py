"""A hostile file's parser, run in a disposable child process under caps, answering JSON.

The libraries that read uploads (PyAV's FFmpeg for the video probe, LibRaw for camera
RAW, psd-tools for Photoshop documents, PDFium for a consent form's first page) parse a
stranger's bytes: a crafted file may crash them, loop or allocate without end. Each runs
as a small script of its own (`*_child.py`, importing nothing from Beeldbank) that prints
one JSON object, started through `ingest.video.launch`: a memory cap (address space), a
CPU cap, a lower priority, and death with this process. Here the wall clock is kept too:
past `timeout_s` the child's whole process group is killed, so nothing it started
outlives the call that waited for it.

A crash, a cap or a garbled answer is `ChildFailed`, the clock `ChildTimedOut`; each
caller words them for a person (what it was reading, and that the original is kept). An
answer of {"error": ...} is the child's own refusal, returned like any answer.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ingest.video import launch

NICENESS = 10


class ChildFailed(Exception):
    """The child crashed (a signal), hit its memory or CPU cap, or answered no JSON object."""


class ChildTimedOut(ChildFailed):
    """The child was still working after its time limit and was killed."""


def run_json(
    script: Path, args: list[str], *, memory: int, timeout_s: float, niceness: int = NICENESS
) -> dict[str, Any]:
    """Run `script` with `args` under the caps and return the JSON object it printed."""
    command = launch.command(
        [sys.executable, "-I", str(script), *args],
        memory=memory,
        niceness=niceness,
        cpu_s=math.ceil(timeout_s),
    )
    # A session of its own: on the timeout the whole group goes, the launcher's watcher
    # and whatever the script started included.
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as child:
        try:
            out, _ = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill(child)
            raise ChildTimedOut(f"{script.name} took longer than {timeout_s:g} s") from None
        except BaseException:
            _kill(child)
            raise
    if child.returncode != 0 or not out:
        raise ChildFailed(f"{script.name} ended with status {child.returncode}")
    try:
        answer = json.loads(out)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ChildFailed(f"{script.name} answered no JSON object")
    return answer


def _kill(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()
    child.communicate()  # reap it and close the pipes
