"""Lists as async iterators over their pages, following `Link: <…>; rel="next"` to the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

import httpx

from .errors import ResponseError
from .http import HTTP, json_of
from .models import Page

T = TypeVar("T")
Fetch = Callable[[str | httpx.URL], Awaitable[Page[T]]]


class Pages(Generic[T]):
    """`async for page in pages` walks the pages (each a `Page`, fetched when reached);
    `items()` walks their items, `all()` gathers them. Nothing is sent before iterating."""

    def __init__(self, fetch: Fetch[T], first: str) -> None:
        self._fetch = fetch
        self._first = first

    async def __aiter__(self) -> AsyncIterator[Page[T]]:
        url: str | httpx.URL | None = self._first
        while url is not None:
            page = await self._fetch(url)
            yield page
            url = page.next_url

    async def items(self) -> AsyncIterator[T]:
        async for page in self:
            for item in page:
                yield item

    async def all(self) -> list[T]:
        return [item async for item in self.items()]


def page_reader(http: HTTP, read: Callable[[Any], T]) -> Fetch[T]:
    """Fetches one page of a list: a JSON array, each item read by `read`, and its next link."""

    async def fetch(url: str | httpx.URL) -> Page[T]:
        response = await http.request("GET", url, replayable=True)
        body = json_of(response)
        if not isinstance(body, list):
            raise ResponseError(f"{response.url.path}: expected a list")
        next_url = http.next_url(response)
        return Page(tuple(read(item) for item in body), None if next_url is None else str(next_url))

    return fetch
