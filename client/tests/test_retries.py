"""Retries, Idempotency-Key and page links, against fake answers (httpx.MockTransport): no real
server, and no real waiting — the pauses asked for are recorded by an injected `sleep`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from support import Sleeps

from notes_client import NotesClient, RateLimited, Retry, ServiceUnavailable

NOTE = {
    "id": 7,
    "title": "Hello",
    "content": "world",
    "is_pinned": False,
    "created_at": "2025-01-02T03:04:05+00:00",
    "updated_at": "2025-01-02T03:04:05+00:00",
    "version": 1,
}
Answer = Callable[[httpx.Request], httpx.Response]


class Fake:
    """A client whose requests get `answers` in turn (each a response, or a function of the request);
    `requests` are what it sent, `sleeps` the pauses it asked for."""

    def __init__(self, answers: list[Answer | httpx.Response], **retry: float) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []
        self.sleeps = Sleeps()
        transport = httpx.MockTransport(self.handle)
        policy = Retry(sleep=self.sleeps, **retry)  # type: ignore[arg-type]
        self.client = NotesClient("http://notes.test", "tok", transport=transport, retry=policy)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[len(self.requests) - 1]
        return answer(request) if callable(answer) else answer


def busy(status: int, retry_after: str | None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, json={"error": "Too many attempts"}, headers=headers)


def created(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        201, json=NOTE, headers={"ETag": '"7.1"', "Location": "http://notes.test/api/notes/7"}
    )


async def test_429_and_503_are_retried_after_retry_after() -> None:
    fake = Fake([busy(429, "7"), busy(503, "2"), created])
    note = await fake.client.create_note(title="Hello", content="world")
    assert note.id == 7 and note.etag == '"7.1"'
    assert fake.sleeps.pauses == [7.0, 2.0]


async def test_the_wait_is_capped() -> None:
    fake = Fake([busy(429, "3600"), created], max_wait=0.5)
    await fake.client.create_note(title="Hello", content="world")
    assert fake.sleeps.pauses == [0.5]


async def test_retry_after_as_a_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake = Fake([busy(503, when), created])
    await fake.client.create_note(title="Hello", content="world")
    assert 25 < fake.sleeps.pauses[0] <= 30


async def test_attempts_are_bounded_then_the_error_is_raised() -> None:
    fake = Fake([busy(429, "1")] * 3, attempts=3)
    with pytest.raises(RateLimited) as limited:
        await fake.client.me()
    assert limited.value.retry_after == 1.0 and limited.value.message == "Too many attempts"
    assert fake.sleeps.pauses == [1.0, 1.0] and len(fake.requests) == 3
    fake = Fake([busy(503, None)] * 2, attempts=2)
    with pytest.raises(ServiceUnavailable):
        await fake.client.me()


async def test_idempotency_key_is_sent_and_reused_on_retries() -> None:

    def lost(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset after the request went out", request=request)

    fake = Fake([busy(429, "1"), lost, created, created])
    await fake.client.create_note(title="Hello", content="world")
    await fake.client.create_note(title="Hello", content="world")
    keys = [request.headers["Idempotency-Key"] for request in fake.requests]
    assert keys[0] == keys[1] == keys[2] != keys[3]  # one key per create, the same on its retries
    assert all(len(key) == 36 for key in keys)  # a UUID
    assert json.loads(fake.requests[0].content) == {"title": "Hello", "content": "world", "is_pinned": False}


async def test_a_write_that_may_have_applied_is_not_sent_twice() -> None:
    def lost(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("lost", request=request)

    fake = Fake([lost, created])
    with pytest.raises(httpx.ReadError):
        await fake.client.update_note(7, title="x")  # a PATCH has no key: raised, not repeated
    assert len(fake.requests) == 1


async def test_a_connection_never_made_is_retried_for_any_write() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake = Fake([refused, lambda request: httpx.Response(204)])
    await fake.client.purge_note(7)
    assert len(fake.requests) == 2 and fake.sleeps.pauses == [0.5]


async def test_next_page_stays_on_the_clients_origin() -> None:
    def first(request: httpx.Request) -> httpx.Response:
        link = '<https://public.example.com/api/notes?limit=1&cursor=abc.def>; rel="next"'
        return httpx.Response(200, json=[NOTE], headers={"Link": link})

    def second(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{**NOTE, "id": 6, "tags": ["x"], "colour": "blue"}])

    fake = Fake([first, second])
    notes = await fake.client.list_notes(limit=1).all()
    assert [note.id for note in notes] == [7, 6] and notes[1].tags == ("x",)
    assert notes[1].raw["colour"] == "blue"  # a field this client does not know: kept, not refused
    urls = [str(request.url) for request in fake.requests]
    assert urls == [
        "http://notes.test/api/notes?limit=1",
        "http://notes.test/api/notes?limit=1&cursor=abc.def",
    ]
    assert all(request.headers["Authorization"] == "Bearer tok" for request in fake.requests)


async def test_list_parameters_and_bodies_send_only_what_is_given() -> None:
    fake = Fake([httpx.Response(200, json=[])] * 2 + [created])
    await fake.client.list_notes(q="eggs milk", tag="work", limit=5).all()
    await fake.client.list_trash().all()
    await fake.client.update_note(7, tags=[])
    assert [request.url.params for request in fake.requests[:2]] == [
        httpx.QueryParams({"q": "eggs milk", "tag": "work", "limit": "5"}),
        httpx.QueryParams(),
    ]
    assert json.loads(fake.requests[2].content) == {"tags": []}  # an empty list is a value; None is not
    assert "If-Match" not in fake.requests[2].headers  # by id: unconditional, as the API allows
