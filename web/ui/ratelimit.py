"""Login rate limiting: failed attempts per address and per account, in a sliding window.

Counts live in this process. With several server processes each counts on its own, so an
attacker gets at most (processes x limit) guesses per window: still far too few to guess a
password, and no shared store is needed for that guarantee.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

from dam.clock import now

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5  # failures per e-mail address and client address
PER_CLIENT = 20  # failures per client address, whatever the e-mail


class LoginLimiter:
    def __init__(self, *, window: timedelta = WINDOW) -> None:
        self.window = window
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], moment: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and moment - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def retry_after(self, *, client: str, email: str) -> int:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        moment = now()
        with self._lock:
            waits = []
            for key, limit in (((client, email.lower()), PER_ACCOUNT), ((client, ""), PER_CLIENT)):
                times = self._recent(key, moment)
                if len(times) >= limit:
                    waits.append((times[0] + self.window - moment).total_seconds())
            return max((math.ceil(w) for w in waits), default=0)

    def failed(self, *, client: str, email: str) -> None:
        moment = now()
        with self._lock:
            for key in ((client, email.lower()), (client, "")):
                self._failures.setdefault(key, deque()).append(moment)

    def succeeded(self, *, client: str, email: str) -> None:
        with self._lock:
            self._failures.pop((client, email.lower()), None)
