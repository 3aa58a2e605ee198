"""Sign-in attempts per client address (OWASP ASVS 6.1.1): at most `[oidc] attempts_per_min`
a minute, then 429 with Retry-After. In memory, per server process; the addresses kept are
bounded."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque

WINDOW_S = 60.0
MAX_ADDRESSES = 10_000


class Attempts:
    def __init__(self, *, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()  # the sign-in routes run in worker threads

    def wait_s(self, address: str, *, limit: int) -> int:
        """0 when this attempt may go on (and it is counted); else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            times = self._seen.setdefault(address, deque())
            self._seen.move_to_end(address)
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if len(times) >= limit:
                return max(1, math.ceil(times[0] + self.window_s - now))
            times.append(now)
            while len(self._seen) > MAX_ADDRESSES:
                self._seen.popitem(last=False)
            return 0
