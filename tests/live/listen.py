"""A live stream of a real server, read in a thread: every event kept with the moment it came."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

WAIT_SECONDS = 10.0


@dataclass
class Received:
    at: float  # time.monotonic() when its last line came
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return self.fields.get("event")

    @property
    def data(self) -> Any:
        return orjson.loads(self.fields["data"])


class Listener:
    """`GET path` on `url` with `headers`, its events in `events` as they come, until it ends."""

    def __init__(self, url: str, path: str = "/api/events", headers: dict[str, str] | None = None) -> None:
        self.url, self.path, self.headers = url, path, headers or {}
        self.events: list[Received] = []
        self.status: int | None = None
        self.opened = threading.Event()
        self.ended = threading.Event()
        self.ended_at: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        assert self.opened.wait(WAIT_SECONDS), "the stream did not open"
        assert self.status == 200, self.status
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.closing = True
        response = getattr(self, "response", None)
        if response is not None:
            response.close()
        self.thread.join(WAIT_SECONDS)

    def _run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=httpx.Timeout(WAIT_SECONDS, read=None)) as http:
                with http.stream("GET", self.path, headers=self.headers) as response:
                    self.response = response
                    self.status = response.status_code
                    self.opened.set()
                    block: dict[str, str] = {}
                    for line in response.iter_lines():
                        if line == "":
                            if block:
                                self.events.append(Received(time.monotonic(), block))
                            block = {}
                        elif not line.startswith(":"):
                            name, _, value = line.partition(":")
                            block[name] = value.removeprefix(" ")
        except (httpx.HTTPError, RuntimeError):
            pass  # cut off, or closed by the test
        finally:
            self.ended_at = time.monotonic()
            self.opened.set()
            self.ended.set()

    def changes(self) -> list[Received]:
        return [event for event in self.events if event.kind in {"note", "deleted"}]

    def wait_for(self, title: str, within: float = WAIT_SECONDS) -> Received:
        """The `note` event of the note titled `title`, once it came."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for event in self.changes():
                if event.kind == "note" and event.data["title"] == title:
                    return event
            time.sleep(0.01)
        raise AssertionError(f"no event for {title!r} in {within} s; got {[e.fields for e in self.events]}")

    def wait_end(self, within: float = WAIT_SECONDS) -> float:
        """When the stream ended (monotonic); fails when it did not."""
        assert self.ended.wait(within), "the stream did not end"
        assert self.ended_at is not None
        return self.ended_at
