"""Nothing lost under load (SPEC §6): concurrent writes, crashes and SIGTERM, through hypercorn.

Each test is bounded in time and runs against the backend of the suite (SQLite file, or a fresh
PostgreSQL database with NOTES_TEST_DATABASE=postgresql).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import httpx

from tests.helpers import PASSWORD
from tests.server import Server

CONCURRENT_WRITES = 500


async def token_for(http: httpx.AsyncClient) -> dict[str, str]:
    await http.post(
        "/api/users", json={"username": "loader", "email": "loader@example.com", "password": PASSWORD}
    )
    response = await http.post("/api/token", json={"email": "loader@example.com", "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def all_note_ids(http: httpx.AsyncClient, headers: dict[str, str]) -> set[int]:
    ids: set[int] = set()
    url: str | None = "/api/notes?limit=200"
    while url:
        response = await http.get(url, headers=headers)
        assert response.status_code == 200
        ids.update(note["id"] for note in response.json())
        url = response.links.get("next", {}).get("url")
    return ids


def client(server: Server, connections: int = CONCURRENT_WRITES) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60)


async def test_two_workers_take_500_concurrent_writes_and_keep_them_all(tmp_path, database_url) -> None:
    with Server(tmp_path, database_url).start("--workers", "2") as server:
        async with client(server) as http:
            headers = await token_for(http)

            async def write(number: int) -> httpx.Response:
                return await http.post(
                    "/api/notes", json={"title": f"n{number}", "content": "c"}, headers=headers
                )

            responses = await asyncio.wait_for(
                asyncio.gather(*(write(number) for number in range(CONCURRENT_WRITES))), timeout=120
            )
            statuses = [response.status_code for response in responses]
            assert statuses.count(201) == CONCURRENT_WRITES, {s: statuses.count(s) for s in set(statuses)}
            created = {response.json()["id"] for response in responses}
            assert await all_note_ids(http, headers) == created
        assert "database is locked" not in server.log() and "Traceback" not in server.log()


async def test_kill_9_during_writes_loses_no_acknowledged_note(tmp_path, database_url) -> None:
    server = Server(tmp_path, database_url).start("--workers", "2")
    acknowledged: set[int] = set()
    async with client(server, 64) as http:
        headers = await token_for(http)

        async def writer() -> None:
            while True:
                try:
                    response = await http.post(
                        "/api/notes", json={"title": "t", "content": "c"}, headers=headers
                    )
                except httpx.HTTPError:
                    return  # the server died under us
                if response.status_code == 201:
                    acknowledged.add(response.json()["id"])

        tasks = [asyncio.create_task(writer()) for _ in range(32)]
        await asyncio.sleep(2)
        server.kill()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    assert len(acknowledged) > 50, "the load did not get going"

    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Server(tmp_path, database_url).start() as restarted:
        async with client(restarted, 8) as http:
            response = await http.post(
                "/api/token", json={"email": "loader@example.com", "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {response.json()['token']}"}
            assert acknowledged <= await all_note_ids(http, headers)


async def test_sigterm_lets_every_request_in_flight_finish(tmp_path, database_url) -> None:
    """Every request that was on the wire when SIGTERM came gets its answer.

    httpx's trace hook tells when each request was fully written, so requests still waiting in the
    client at the time of the signal (they arrive after it) are not held against the server.
    """
    # bcrypt at cost 13 makes each token request take a while: they are in flight at SIGTERM.
    server = Server(tmp_path, database_url, NOTES_BCRYPT_ROUNDS="13").start("--workers", "2")
    sent_at: dict[str, float] = {}
    logins = {f"login{n}" for n in range(4)}
    logins_sent = asyncio.Event()

    def traced(key: str) -> dict[str, Any]:
        async def trace(event: str, _info: dict[str, Any]) -> None:
            if event == "http11.send_request_body.complete":
                sent_at[key] = time.monotonic()
                if logins <= sent_at.keys():
                    logins_sent.set()

        return {"trace": trace}

    async with client(server, 128) as http:
        headers = await token_for(http)
        login = {"email": "loader@example.com", "password": PASSWORD}
        requests = {key: http.post("/api/token", json=login, extensions=traced(key)) for key in logins}
        requests |= {
            f"write{n}": http.post(
                "/api/notes",
                json={"title": f"w{n}", "content": "c"},
                headers=headers,
                extensions=traced(f"write{n}"),
            )
            for n in range(100)
        }
        tasks = {key: asyncio.create_task(request) for key, request in requests.items()}
        # Signal once the slow sign-ins are on the wire (a fixed pause was too short on a busy machine).
        await asyncio.wait_for(logins_sent.wait(), timeout=10)
        await asyncio.sleep(0.05)  # and a few writes behind them
        signalled = time.monotonic()
        exit_code = await asyncio.to_thread(server.terminate)
        drained = time.monotonic() - signalled
        results = dict(zip(tasks, await asyncio.gather(*tasks.values(), return_exceptions=True), strict=True))

    in_flight = {key for key, moment in sent_at.items() if moment < signalled}
    unfinished = {key for key, result in results.items() if not isinstance(result, httpx.Response)}
    assert logins <= in_flight - unfinished, "the slow requests must be in flight"
    failed = {
        key
        for key in in_flight
        if not isinstance(results[key], httpx.Response) or results[key].status_code >= 300
    }
    assert failed == set(), {key: results[key] for key in sorted(failed)[:3]}
    assert exit_code == 0, server.log()
    assert drained < 30
