"""bench.streams' load generator reads chunked Server-Sent Events as hypercorn sends them, and its
delivery count says "exactly once" only when each note came once on its author's stream; no server is
started here."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bench import streams

pytestmark = pytest.mark.sqlite_pass_only


def _holder(fleet: streams.Fleet, user: int = 7) -> tuple[streams.StreamHolder, asyncio.Future[int]]:
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[int] = loop.create_future()
    return streams.StreamHolder(b"GET / HTTP/1.1\r\n\r\n", ready, fleet, user), ready


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def test_chunked_events_split_anywhere_are_read_once() -> None:
    fleet = streams.Fleet()
    holder, ready = _holder(fleet)
    answer = (
        b"HTTP/1.1 200 \r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunk(b"id: abc\n\n")
        + _chunk(b": heartbeat\n\n")
        + _chunk(b'id: def\nevent: note\ndata: {"id": 42, "title": "t"}\n\n')
        + _chunk(b'id: ghi\nevent: deleted\ndata: {"id": 3}\n\n')
    )
    for start in range(0, len(answer), 5):  # the network may cut anywhere
        holder.data_received(answer[start : start + 5])
    assert ready.result() == 200
    assert holder.heartbeats == 1
    assert list(fleet.arrivals) == [(7, 42)]
    assert fleet.other_events == 1


def test_a_refused_stream_says_its_status() -> None:
    holder, ready = _holder(streams.Fleet())
    holder.data_received(b'HTTP/1.1 429 \r\ncontent-type: application/json\r\n\r\n{"error": "x"}')
    assert ready.result() == 429


def test_delivery_counts_missing_twice_and_unexpected() -> None:
    fleet = streams.Fleet()
    writes: list[dict[str, Any]] = [
        {"user": 1, "id": 10, "sent": 0.0, "acked": 1.0},
        {"user": 2, "id": 11, "sent": 0.0, "acked": 1.0},
        {"user": 3, "id": 12, "sent": 0.0, "acked": 1.0},
        {"user": 4, "sent": 0.0, "status": 500},
    ]
    fleet.received(1, 10, 1.010)
    fleet.received(2, 11, 1.020)
    fleet.received(2, 11, 1.030)  # twice
    fleet.received(1, 11, 1.040)  # on another user's stream
    found = streams.delivery(writes, fleet)
    assert (found["acknowledged"], found["failed_writes"]) == (3, 1)
    assert (found["delivered"], found["missing"], found["delivered_twice"]) == (2, 1, 1)
    assert found["unexpected_events"] == 1
    assert found["latency_ms"]["max"] == 20.0
