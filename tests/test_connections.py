"""Keep-alive connections through hypercorn: a client is told when one cannot be reused."""

from __future__ import annotations

import http.client
import json

from tests.conftest import PASSWORD
from tests.server import Server

TWO_MIB = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}'
JSON = {"Content-Type": "application/json"}


def exchange(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None):  # type: ignore[no-untyped-def]
    connection.request(method, path, body=body, headers=JSON if body else {})
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("Connection")


def test_a_response_sent_before_the_body_was_read_closes_the_connection_and_says_so(
    tmp_path, database_url
) -> None:
    with Server(tmp_path, database_url).start() as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for _ in range(3):
            assert exchange(connection, "POST", "/api/notes", TWO_MIB) == (401, "close")
            # Told to, http.client opens a new connection; untold, it wrote into the closed one.
            assert exchange(connection, "GET", "/healthz") == (200, None)

        account = json.dumps({"username": "ann", "email": "ann@example.com", "password": PASSWORD})
        assert exchange(connection, "POST", "/api/users", account.encode()) == (201, None)
        kept = connection.sock
        assert exchange(connection, "GET", "/healthz") == (200, None)
        assert connection.sock is kept  # a body that was read leaves the connection open
        connection.close()
