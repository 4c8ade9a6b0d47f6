"""Who a process is, so that another process can tell whether it still lives.

A job a process claimed, and a temp file it writes, carry its identity: the host, the
boot (a reboot ends every process) and the pid with the process's start time (a pid is
reused; pid and start time together are not). A starting process takes over the jobs and
removes the temp files of owners on its host that are gone, at once, instead of waiting
for a heartbeat to go stale.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")
_NAME_TAG = re.compile(r"@([^@/]+)@")


@dataclass(frozen=True)
class Owner:
    host: str
    boot: str  # "" where the system does not say (not Linux)
    pid: int
    started: str  # the process's start time in clock ticks after boot; "" where unknown

    @property
    def tag(self) -> str:
        """The identity as a file-name part: host~boot~pid~started."""
        host = _UNSAFE.sub("_", self.host)[:64]
        return "~".join((host, self.boot[:8], str(self.pid), self.started))

    @classmethod
    def from_tag(cls, tag: str) -> Owner | None:
        parts = tag.split("~")
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        return cls(host=parts[0], boot=parts[1], pid=int(parts[2]), started=parts[3])


def temp_prefix(kind: str) -> str:
    """A temp-file name prefix that names this process (see dam.leftovers):
    `tempfile.mkstemp(dir=tmp, prefix=temp_prefix("in-"))` -> `in-@host~boot~pid~start@x1y2`."""
    return f"{kind}@{current().tag}@"


def owner_of_name(name: str) -> Owner | None:
    """The writer named in a temp file's name, if it names one."""
    match = _NAME_TAG.search(name)
    return Owner.from_tag(match[1]) if match else None


def host_name() -> str:
    return socket.gethostname()[:255]


@lru_cache(maxsize=1)
def boot_id() -> str:
    try:
        return _BOOT_ID.read_text().strip().replace("-", "")
    except OSError:
        return ""


def start_time(pid: int) -> str | None:
    """The start time of process `pid` ("" where unknown), None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "" if _pid_exists(pid) else None
    # Field 2 (the command) may hold spaces and parentheses: count from the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current() -> Owner:
    """This process (recomputed after a fork: the pid changes)."""
    return _current(os.getpid())


@lru_cache(maxsize=4)
def _current(pid: int) -> Owner:
    host = _UNSAFE.sub("_", host_name())[:64]
    return Owner(host=host, boot=boot_id(), pid=pid, started=start_time(pid) or "")


def is_local(owner: Owner) -> bool:
    """Whether `owner` ran on this machine (in this boot or an earlier one)."""
    return owner.host == current().host


def is_gone(owner: Owner) -> bool:
    """Whether `owner`, a process of this host, has ended. False for other hosts: from
    here nothing can be known about them (their heartbeat tells)."""
    me = current()
    if owner.host != me.host:
        return False
    if owner.boot and me.boot and not me.boot.startswith(owner.boot[:8]):
        return True  # the machine rebooted since
    started = start_time(owner.pid)
    if started is None:
        return True
    return bool(owner.started and started and owner.started != started)
