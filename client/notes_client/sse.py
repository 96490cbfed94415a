"""A small Server-Sent Events parser (the WHATWG HTML "event stream" format), fed bytes as they come.

Lines end at CR LF, LF or CR alone, and nowhere else: the JSON of a note may hold U+2028 and
friends, which `str.splitlines` (and so httpx's `aiter_lines`) would wrongly break at. Bytes are
split before decoding (no line break byte occurs inside a UTF-8 sequence), and a CR at the end of
one chunk waits for the next, in case an LF follows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: its type (`message` when unnamed), data, and the last event id."""

    event: str
    data: str
    id: str | None


class SSEDecoder:
    """Feed it chunks of the body; it yields each event as its blank line arrives.

    `last_event_id` and `retry` (milliseconds) outlive events, as the format says: they are what a
    reconnection sends (`Last-Event-ID`) and how long it waits.
    """

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self.retry: int | None = None
        self._buffer = b""
        self._started = False
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> Iterator[ServerSentEvent]:
        """The events completed by this chunk."""
        self._buffer += chunk
        while True:
            line, found = self._next_line()
            if not found:
                return
            if (event := self._line(line)) is not None:
                yield event

    def _next_line(self) -> tuple[bytes, bool]:
        buffer = self._buffer
        cr, lf = buffer.find(b"\r"), buffer.find(b"\n")
        if cr == -1 and lf == -1:
            return b"", False
        if cr == -1 or (lf != -1 and lf < cr):
            self._buffer = buffer[lf + 1 :]
            return buffer[:lf], True
        if cr == len(buffer) - 1:  # a CR last: an LF may follow in the next chunk
            return b"", False
        end = cr + 2 if buffer[cr + 1 : cr + 2] == b"\n" else cr + 1
        self._buffer = buffer[end:]
        return buffer[:cr], True

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        line = raw.decode("utf-8", errors="replace")
        if not self._started:
            self._started = True
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):  # a comment: the heartbeat
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\x00" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        if not data:  # no data: nothing to dispatch, but its id still counts (last_event_id)
            return None
        return ServerSentEvent(event, "\n".join(data), self.last_event_id)
