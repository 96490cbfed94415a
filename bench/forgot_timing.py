"""Median time of POST /api/password/forgot for a known and an unknown email (in process, SQLite).

    .venv/bin/python -m bench.forgot_timing

Both answers are the same bytes; this measures that the work behind them is alike too (docs/mail.md).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time

from notes_service import create_app
from notes_service.services import users
from tests.databases import migrate
from tests.helpers import app_settings

ROUNDS = 400
WARM_UP = 50


async def measure(url: str, directory: str) -> dict[str, list[float]]:
    app = create_app(app_settings(url, outbox_dir=f"{directory}/outbox", mail_poll_seconds=3600))
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    async with app.test_app():
        store = app.extensions["database"].store()
        password_hash = await app.extensions["hasher"].hash("x" * 12)
        async with store.write():
            await users.create_user(
                store, username="alice", email="alice@example.com", password_hash=password_hash
            )
        client = app.test_client()
        for _ in range(ROUNDS):
            for kind, email in (("known", "alice@example.com"), ("unknown", "nobody@example.com")):
                started = time.perf_counter()
                response = await client.post("/api/password/forgot", json={"email": email})
                times[kind].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 202
    return times


def main() -> None:
    directory = tempfile.mkdtemp()
    url = f"sqlite+aiosqlite:///{directory}/notes.db"
    migrate(url)
    for kind, values in asyncio.run(measure(url, directory)).items():
        values = values[WARM_UP:]
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{kind}: median {statistics.median(values):.3f} ms, p90 {p90:.3f} ms ({len(values)} requests)")


if __name__ == "__main__":
    main()
