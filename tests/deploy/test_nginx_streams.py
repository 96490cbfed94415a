"""A live stream held through the real nginx with the shipped deploy/nginx.conf (SPEC §10): events
arrive as they happen, unbuffered, and the stream outlives many heartbeats."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notes_service.config import Settings
from tests.helpers import PASSWORD
from tests.nginx import ROOT, client, require_nginx, running_nginx
from tests.server import Server

pytestmark = pytest.mark.sqlite_pass_only

HEARTBEAT = 0.3


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_nginx()
    where = tmp_path_factory.mktemp("nginx-streams")
    settings = {"NOTES_TRUSTED_PROXY_HOPS": "1", "NOTES_EVENTS_HEARTBEAT_SECONDS": str(HEARTBEAT)}
    with Server(where, **settings) as server:
        server.start("--workers", "2")
        with running_nginx(where, [server.port]) as (https, _http):
            yield https


def token_of(http: httpx.Client, name: str) -> dict[str, str]:
    user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    assert http.post("/api/users", json=user).status_code == 201
    response = http.post("/api/token", json={"email": user["email"], "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_a_stream_through_nginx_gets_each_event_at_once_and_heartbeats(proxied: str) -> None:
    with client(proxied) as http:
        headers = token_of(http, "streamer")
        lines: list[tuple[float, str]] = []
        opened = threading.Event()

        def listen() -> None:
            with client(proxied) as reader:
                with reader.stream("GET", "/api/events", headers=headers) as response:
                    assert response.status_code == 200
                    assert response.headers["content-type"].startswith("text/event-stream")
                    opened.set()
                    for line in response.iter_lines():
                        lines.append((time.monotonic(), line))
                        if line.startswith("data:") and '"last"' in line:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(10)
        time.sleep(8 * HEARTBEAT)  # longer than nginx would hold a buffered answer's first bytes
        sent = {}
        for title in ("first", "last"):
            sent[title] = time.monotonic()
            response = http.post("/api/notes", json={"title": title, "content": "c"}, headers=headers)
            assert response.status_code == 201
            time.sleep(0.5)
        listener.join(10)
        assert not listener.is_alive(), f"the events did not come through nginx: {lines}"

    beats = [at for at, line in lines if line == ": heartbeat"]
    assert len(beats) >= 5, lines  # a buffering proxy would hold these back
    for title, at in sent.items():
        (arrived,) = [seen for seen, line in lines if line.startswith("data:") and f'"{title}"' in line]
        assert arrived - at < 1.0, f"{title} took {arrived - at:.2f} s through nginx"


def test_nginx_holds_a_silent_stream_longer_than_a_heartbeat() -> None:
    """The stream location's read timeout is the longest silence nginx allows: above the default
    heartbeat, or every idle stream would be cut."""
    config = (ROOT / "deploy" / "nginx.conf").read_text()
    location = re.search(r"location ~ \^/\(api/\)\?events\$ \{(.*?)\}", config, re.S)
    assert location, "deploy/nginx.conf has no location for the live streams"
    block = location.group(1)
    assert "proxy_buffering off;" in block
    timeout = re.search(r"proxy_read_timeout (\d+)s;", block)
    assert timeout and int(timeout.group(1)) > Settings.events_heartbeat_seconds * 2


def test_the_streams_location_matches_both_routes_and_nothing_else() -> None:
    pattern = re.compile(r"^/(api/)?events$")
    assert all(pattern.match(path) for path in ("/events", "/api/events"))
    assert not any(pattern.match(path) for path in ("/eventsx", "/api/events/1", "/notes/events"))
    assert Path(ROOT / "deploy" / "nginx.conf").exists()
