"""Sending requests: the bearer token, retries after 429 and 503, lost connections, error answers.

429 and 503 are retried after `Retry-After` (capped by `Retry.max_wait`), at most `Retry.attempts`
tries in all, then raised as `RateLimited` / `ServiceUnavailable`. A connection that could not be
made is retried whatever the method (nothing was sent); one lost after the request went out only
when sending it again is harmless (`replayable`: reads, and creates that carry an Idempotency-Key).
Every other error answer becomes the `APIError` of errors.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import ResponseError, error_for, retry_after

RETRIED = frozenset({429, 503})
CONNECTING = (httpx.ConnectError, httpx.ConnectTimeout)


@dataclass(frozen=True)
class Retry:
    """How long and how often to retry. `sleep` is injectable, and `max_wait` caps every pause, so a
    test (or an impatient caller) never waits for a server's long `Retry-After`."""

    attempts: int = 4
    max_wait: float = 60.0
    first_wait: float = 0.5
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def pause(self, attempt: int, asked: float | None = None) -> float:
        """Seconds before try `attempt + 1`: what the server asked, else doubling from `first_wait`."""
        wait = asked if asked is not None else self.first_wait * 2 ** (attempt - 1)
        return max(0.0, min(wait, self.max_wait))


class HTTP:
    """One httpx client, the token, and the retry rules; every call of `NotesClient` goes through it."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None,
        timeout: float,
        stream_timeout: float,
        retry: Retry,
    ) -> None:
        self.token = token
        self.retry = retry
        self.stream_timeout = httpx.Timeout(timeout, read=stream_timeout)
        self.client = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout)

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    async def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        replayable: bool = False,
    ) -> httpx.Response:
        """Send, retrying as the module says; an error answer (4xx, 5xx) raises."""
        attempt = 1
        while True:
            try:
                response = await self.client.request(
                    method, url, json=json, params=params, headers=self.headers(headers)
                )
            except httpx.TransportError as error:
                if attempt >= self.retry.attempts or not (replayable or isinstance(error, CONNECTING)):
                    raise
                await self.retry.sleep(self.retry.pause(attempt))
                attempt += 1
                continue
            if response.status_code in RETRIED and attempt < self.retry.attempts:
                await self.retry.sleep(self.retry.pause(attempt, retry_after(response)))
                attempt += 1
                continue
            if response.is_error:
                raise error_for(response)
            return response

    @asynccontextmanager
    async def stream(self, url: str, *, headers: Mapping[str, str]) -> AsyncIterator[httpx.Response]:
        """A streamed GET: 429 and 503 retried as `request` does, errors raised before the body."""
        attempt = 1
        while True:
            request = self.client.build_request(
                "GET", url, headers=self.headers(headers), timeout=self.stream_timeout
            )
            response = await self.client.send(request, stream=True)
            if response.is_error:
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                if response.status_code in RETRIED and attempt < self.retry.attempts:
                    await self.retry.sleep(self.retry.pause(attempt, retry_after(response)))
                    attempt += 1
                    continue
                raise error_for(response)
            try:
                yield response
            finally:
                await response.aclose()
            return

    def next_url(self, response: httpx.Response) -> httpx.URL | None:
        """The `Link: rel="next"` URL, on the origin this client was given: a link naming another
        host (a public address behind a proxy) is followed by its path, so the token never leaves."""
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        return self.client.base_url.copy_with(raw_path=httpx.URL(link).raw_path)

    async def aclose(self) -> None:
        await self.client.aclose()


def given(**fields: Any) -> dict[str, Any]:
    """The fields that were given: None means "not sent" (the API takes null for none of them)."""
    return {name: value for name, value in fields.items() if value is not None}


def json_of(response: httpx.Response) -> Any:
    """The answer's JSON; `ResponseError` when it is not JSON."""
    try:
        return response.json()
    except ValueError as error:
        raise ResponseError(f"{response.request.method} {response.url.path}: not JSON") from error
