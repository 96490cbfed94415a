"""Reading a Server-Sent Events answer of the test client, event by event, with a deadline."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from quart.typing import TestHTTPConnectionProtocol


@dataclass
class Event:
    """One SSE block: its fields (`id`, `event`, `data`, `retry`) and comment lines."""

    fields: dict[str, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        return self.fields.get("event")

    @property
    def id(self) -> str | None:
        return self.fields.get("id")

    @property
    def data(self) -> Any:
        return orjson.loads(self.fields["data"])


class Reader:
    """Splits a stream's bytes into events; `next` waits at most `within` seconds for one."""

    def __init__(self, connection: TestHTTPConnectionProtocol) -> None:
        self.connection = connection
        self.buffer = b""
        self.ended = False

    async def next(self, within: float = 2.0) -> Event | None:
        """The next event, or None when the stream ended (or nothing came in time: `TimeoutError`)."""
        deadline = time.monotonic() + within
        while b"\n\n" not in self.buffer:
            if self.ended:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no event in time")
            try:
                async with asyncio.timeout(remaining):
                    chunk = await self.connection.receive()
            except Exception as error:
                if isinstance(error, TimeoutError):
                    raise
                self.ended = True  # the answer is over (the test client says so by raising)
                continue
            if chunk == b"":
                self.ended = True
            self.buffer += chunk
        block, self.buffer = self.buffer.split(b"\n\n", 1)
        event = Event()
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                event.comments.append(line[1:].strip())
            else:
                name, _, value = line.partition(":")
                event.fields[name] = value.removeprefix(" ")
        return event

    async def next_change(self, within: float = 2.0) -> Event:
        """The next `note` or `deleted` event, skipping heartbeats and the opening `id:`."""
        deadline = time.monotonic() + within
        while True:
            event = await self.next(max(deadline - time.monotonic(), 0.001))
            if event is None:
                raise AssertionError("the stream ended before a change came")
            if event.kind in {"note", "deleted"}:
                return event

    async def until_end(self, within: float = 2.0) -> list[Event]:
        """Every event left until the stream ends; `TimeoutError` when it does not in time."""
        deadline = time.monotonic() + within
        events = []
        while (event := await self.next(max(deadline - time.monotonic(), 0.001))) is not None:
            events.append(event)
        return events
