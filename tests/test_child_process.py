"""The capped child that parses hostile files (ingest/child_process.py), with real
processes: its JSON answer comes back; a crash, the memory cap and a garbled answer are
ChildFailed; past the time limit the child and everything it started are killed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ingest import child_process


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "child.py"
    path.write_text("import json, os, subprocess, sys, time\n" + body)
    return path


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_childs_answer_comes_back(tmp_path: Path) -> None:
    child = script(tmp_path, "print(json.dumps({'args': sys.argv[1:], 'nice': os.nice(0)}))")
    answer = child_process.run_json(child, ["a", "b"], memory=256 * 1024**2, timeout_s=10)
    # A niceness is added to the parent's (a suite run under `nice` starts higher).
    expected = min(19, os.nice(0) + child_process.NICENESS)
    assert answer == {"args": ["a", "b"], "nice": expected}


@pytest.mark.parametrize(
    "body",
    [
        "os.abort()",  # a crash: the C library died of a signal
        "x = bytearray(512 * 1024**2)\nprint('{}')",  # more than the memory cap
        "print('[1, 2]')",  # not an object
        "print('{\"half\": ')",  # not JSON
        "sys.exit(3)",
    ],
)
def test_a_crash_the_memory_cap_or_a_garbled_answer_fail(tmp_path: Path, body: str) -> None:
    child = script(tmp_path, body)
    with pytest.raises(child_process.ChildFailed) as failed:
        child_process.run_json(child, [], memory=256 * 1024**2, timeout_s=10)
    assert not isinstance(failed.value, child_process.ChildTimedOut)


def test_past_the_time_limit_the_child_and_its_own_children_are_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    child = script(
        tmp_path,
        "helper = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{helper.pid}}')\n"
        "time.sleep(60)\n",
    )
    # The limit leaves the child time to start and write its pids on a loaded machine,
    # and under `pytest --cov` (coverage.py starts in every Python child: slower starts).
    limit_s = 4.0
    started = time.monotonic()
    with pytest.raises(child_process.ChildTimedOut):
        child_process.run_json(child, [], memory=256 * 1024**2, timeout_s=limit_s)
    assert time.monotonic() - started < limit_s + 2.5
    own, helper = (int(p) for p in pids.read_text().split())
    deadline = time.monotonic() + 2.0
    while alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)  # SIGKILL is asynchronous; init reaps the orphan
    assert not alive(own) and not alive(helper)
