""" "Last seen" writes, in one place: an auth session's `last_seen_at`, a token's `last_used_at`.

Each is written at most once a minute, and by one request per worker: without a claim, every request
arriving while the stored time is stale would write it, and on SQLite they all queue for the writer
(measured: p99 over a second at c=64, once a minute).
"""

from __future__ import annotations

import time

from quart import current_app

from ..data import Store
from ..services import auth_sessions, tokens
from ..services.users import CurrentUser

CLAIM_SECONDS = 60.0
PRUNE_ABOVE = 10_000


class Claims:
    """The credentials this worker claimed a write for lately: {(kind, id): when}."""

    def __init__(self, seconds: float = CLAIM_SECONDS) -> None:
        self.seconds = seconds
        self.claimed: dict[tuple[str, int], float] = {}

    def claim(self, key: tuple[str, int]) -> bool:
        """True for the first caller in an interval (it writes), False for the others."""
        now = time.monotonic()
        if now - self.claimed.get(key, -self.seconds) < self.seconds:
            return False
        if len(self.claimed) > PRUNE_ABOVE:
            self.claimed = {k: t for k, t in self.claimed.items() if now - t < self.seconds}
        self.claimed[key] = now
        return True


async def record_activity(store: Store, user: CurrentUser) -> None:
    """Note that the user's auth session or token was just used (its stored time is stale)."""
    claims: Claims = current_app.extensions["activity"]
    if user.auth_session_id is not None and claims.claim(("auth_session", user.auth_session_id)):
        async with store.write():
            await auth_sessions.touch_auth_session(store, auth_session_id=user.auth_session_id)
    elif user.token_id is not None and claims.claim(("token", user.token_id)):
        async with store.write():
            await tokens.touch_token(store, token_id=user.token_id)
