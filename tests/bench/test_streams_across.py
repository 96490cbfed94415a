"""bench.streams_across's pure parts: the nginx configuration it writes from the shipped one, which
instance answered, and the latency split by path; no server or nginx is started here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bench import proxy, streams, streams_across

pytestmark = pytest.mark.sqlite_pass_only


def _config(streams_held: int = 1_000) -> str:
    return proxy.config(Path("/tmp/bench-nginx"), [8101, 8102], 8080, streams_held)


def test_the_config_names_both_instances_in_the_shipped_upstream() -> None:
    upstream = re.search(r"upstream notes_service \{(.*?)\}", _config(), re.S)
    assert upstream is not None
    servers = re.findall(r"server 127\.0\.0\.1:(\d+);", upstream.group(1))
    assert servers == ["8101", "8102"]
    assert "keepalive 32;" in upstream.group(1)  # as deploy/nginx.conf keeps connections to them


def test_the_streams_location_is_unbuffered_as_shipped() -> None:
    location = re.search(r"location ~ \^/\(api/\)\?events\$ \{(.*?)\}", _config(), re.S)
    assert location is not None
    block = location.group(1)
    assert "proxy_buffering off;" in block and "proxy_cache off;" in block
    assert "proxy_pass http://notes_service;" in block
    assert "proxy_read_timeout 75s;" in block
    assert "listen 127.0.0.1:8080;" in _config()


def test_room_for_two_connections_a_stream_in_one_worker() -> None:
    text = _config(10_000)
    connections = int(re.search(r"worker_connections (\d+);", text).group(1))  # type: ignore[union-attr]
    files = int(re.search(r"worker_rlimit_nofile (\d+);", text).group(1))  # type: ignore[union-attr]
    assert connections > 2 * 10_000 and files >= 2 * connections


def test_a_shipped_config_without_the_streams_location_is_refused() -> None:
    shipped = proxy.SHIPPED.read_text()
    without = shipped.replace("location ~ ^/(api/)?events$", "location /elsewhere")
    with pytest.raises(RuntimeError):
        proxy.config(Path("/tmp/bench-nginx"), [8101], 8080, 10, text=without)


def test_the_upstream_header_is_read_from_the_answer_head() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Bench-Upstream: 127.0.0.1:8102\r\n\r\n"
    assert streams_across.upstream_of(head) == "127.0.0.1:8102"
    assert streams_across.upstream_of(b"HTTP/1.1 200 OK\r\n\r\n") is None


def test_paths_split_same_and_other_instance() -> None:
    fleet = streams.Fleet()
    writes: list[dict[str, Any]] = [
        {"user": 1, "id": 10, "sent": 0.0, "stamped": 0.5, "acked": 1.0, "upstream": "a"},
        {"user": 2, "id": 11, "sent": 0.0, "stamped": 0.5, "acked": 1.0, "upstream": "a"},
    ]
    fleet.received(1, 10, 0.99)  # before its 201: the writer's own worker
    fleet.received(2, 11, 1.05)
    relay = {1: [(1.2, "w1")], 2: [(1.01, "w1")]}
    found = streams_across.paths(writes, fleet, {1: "a", 2: "b"}, relay)
    assert found["all"]["writes"] == 2
    assert (found["same"]["writes"], found["other"]["writes"]) == (1, 1)
    assert found["same"]["event_before_ack"] == 1 and found["same"]["event_before_relay_message"] == 1
    assert found["other"]["latency_ms"]["p50"] == 50.0
    assert found["other"]["relay_message_to_event_ms"]["p50"] == 40.0
    assert found["other"]["stamped_to_event_ms"]["p50"] == 550.0
