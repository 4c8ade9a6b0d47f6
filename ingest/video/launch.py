"""Runs in the child before a media tool: ties it to its parent, lowers its priority,
caps its memory and CPU time, then becomes the tool (exec).

Standard library only, started with `python -I -S`, so it costs a few milliseconds.

Tied to the parent: when the Beeldbank process that started it dies (kill -9, the OOM
killer), the kernel kills the tool too (Linux PR_SET_PDEATHSIG), instead of leaving an
ffmpeg transcoding for nobody. Where that is not available, the launcher stays as a small
watcher between the two, and kills the tool when its parent is gone.

Usage: python -I -S launch.py auto|watch PARENT_PID MEMORY_BYTES NICENESS CPU_S PROGRAM...
(0 for MEMORY_BYTES or CPU_S: no cap).
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.2
PARENT_GONE = 70  # exit status when the parent died before the tool started


def command(
    program: list[str], *, memory: int, niceness: int, cpu_s: int = 0, mode: str = "auto"
) -> list[str]:
    """The argument list that starts `program` through this launcher (called in the parent)."""
    settings = [mode, str(os.getpid()), str(memory), str(niceness), str(cpu_s)]
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), *settings, *program]


def main(argv: list[str]) -> None:
    mode = argv[1]
    parent, memory, niceness, cpu = (int(value) for value in argv[2:6])
    program = argv[6:]
    tied = mode == "auto" and _die_with_parent()
    if os.getppid() != parent:
        os._exit(PARENT_GONE)  # the parent died before the tie was made
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    os.nice(niceness)
    try:
        # Where the kernel groups sessions for scheduling (autogroup), a process's nice
        # counts only inside its group: lower the group's priority as well.
        with open("/proc/self/autogroup", "w") as group:
            group.write(str(niceness))
    except OSError:
        pass
    if tied:
        os.execv(program[0], program)  # noqa: S606 (argument lists built by Beeldbank)
    _watch(parent, program)


def _die_with_parent() -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError, ImportError):
        return False


def _watch(parent: int, program: list[str]) -> None:
    """Run the tool as our child and kill it when our parent is gone; exit as it did."""
    child = os.fork()
    if child == 0:
        try:
            os.execv(program[0], program)  # noqa: S606
        finally:
            os._exit(127)
    while True:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)
        if os.getppid() != parent:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            os._exit(PARENT_GONE)
        time.sleep(WATCH_INTERVAL_S)


if __name__ == "__main__":
    main(sys.argv)
