"""Claims on "last seen" writes, so that one request per worker writes them, not every request.

A token's `last_used_at` (or a session's `last_seen_at`) is written at most once a minute. Without a
claim, every request that arrives while the stored time is stale would write it, and on SQLite
they all queue for the write lock (measured: p99 over a second at c=64, once a minute).
"""

from __future__ import annotations

import time
from datetime import timedelta

PRUNE_ABOVE = 10_000


class Touches:
    """The ids this worker claimed a write for lately."""

    def __init__(self, interval: timedelta) -> None:
        self.seconds = interval.total_seconds()
        self.claimed: dict[int, float] = {}

    def claim(self, key: int) -> bool:
        """True for the first caller in an interval (it writes), False for the others."""
        now = time.monotonic()
        if now - self.claimed.get(key, -self.seconds) < self.seconds:
            return False
        if len(self.claimed) > PRUNE_ABOVE:
            self.claimed = {k: t for k, t in self.claimed.items() if now - t < self.seconds}
        self.claimed[key] = now
        return True
