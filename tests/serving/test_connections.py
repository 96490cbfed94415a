"""Keep-alive connections through hypercorn: a client is told when one cannot be reused."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tests.helpers import PASSWORD
from tests.server import Server

TWO_MIB = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}'
JSON = {"Content-Type": "application/json"}


def exchange(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None):  # type: ignore[no-untyped-def]
    connection.request(method, path, body=body, headers=JSON if body else {})
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("Connection")


def announce_body(connection: http.client.HTTPConnection, method: str, path: str, length: int):  # type: ignore[no-untyped-def]
    """Send a request's head announcing a body of `length` bytes, none of them, and read the answer.

    Sending the body too made the test flaky under load (BrokenPipe, or a reset that lost the
    answer): the service answers and closes while bytes it never read are still arriving, and
    TCP then resets the connection. With nothing unread, it closes cleanly after its answer."""
    connection.putrequest(method, path)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("Connection")


def test_a_response_sent_before_the_body_was_read_closes_the_connection_and_says_so(
    tmp_path, database_url
) -> None:
    with Server(tmp_path, database_url).start() as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for _ in range(3):
            assert announce_body(connection, "POST", "/api/notes", len(TWO_MIB)) == (401, "close")
            # Told to, http.client opens a new connection; untold, it wrote into the closed one.
            assert exchange(connection, "GET", "/healthz") == (200, None)

        account = json.dumps({"username": "ann", "email": "ann@example.com", "password": PASSWORD})
        assert exchange(connection, "POST", "/api/users", account.encode()) == (201, None)
        kept = connection.sock
        assert exchange(connection, "GET", "/healthz") == (200, None)
        assert connection.sock is kept  # a body that was read leaves the connection open
        connection.close()


@pytest.mark.parametrize(("version", "added"), [("1.1", [(b"connection", b"close")]), ("2", [])])
async def test_only_http1_responses_get_the_connection_header(version, added) -> None:
    # HTTP/2 forbids connection-specific headers; its streams end without closing the connection.
    # (Driven at the ASGI level: hypercorn 0.18 itself drops an h2 connection when data arrives for a
    # stream it already answered, hypercorn#334, so an end-to-end h2 test fails before reaching us.)
    from notes_service.http.web import CloseAfterUnreadBody

    sent: list[dict[str, Any]] = []

    async def refuse(_scope: dict[str, object], _receive: object, send: Any) -> None:
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def body_still_coming() -> dict[str, object]:
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "http_version": version, "headers": [(b"content-length", b"2097152")]}
    await CloseAfterUnreadBody(refuse)(scope, body_still_coming, record)
    assert sent[0]["headers"] == added
