"""GET /api/events and GET /events (SPEC §10) in one worker: who gets a stream, what it sends, and
when it ends. Across workers and hosts: test_across.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from quart import Quart
from quart.typing import TestClientProtocol
from werkzeug.datastructures import Headers

from notes_service.data import Store
from notes_service.live import Live
from notes_service.services import users
from tests.helpers import PASSWORD, api_token, bearer, login, post_form
from tests.live.sse import Reader
from tests.two_factor import Clock, enrol

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
async def alice(client: TestClientProtocol, factory: Any) -> dict[str, str]:
    await factory.user("alice")
    return bearer(await api_token(client, "alice@example.com"))


@asynccontextmanager
async def opened(
    client: TestClientProtocol, path: str = "/api/events", headers: dict[str, str] | None = None, **query: str
) -> AsyncIterator[Reader]:
    """An open stream (its answer's status and headers already in), closed on the way out."""
    connection = client.request(path, headers=headers or {}, query_string=query or None)
    async with connection:
        await connection.send_complete()
        reader = Reader(connection)
        first = await reader.next()  # the opening `id:` (or the error's body)
        assert connection.status_code == 200, (connection.status_code, reader.buffer, first)
        assert first is not None and first.id is not None and first.kind is None
        reader.opening_id = first.id  # type: ignore[attr-defined]
        try:
            yield reader
        finally:
            await connection.disconnect()


async def refused(
    client: TestClientProtocol, path: str, headers: dict[str, str] | None = None, **query: str
) -> tuple[int, Any, Headers]:
    """Status, JSON body and headers of an answer that must not be a stream (a stream fails here,
    rather than hanging the test as `client.get` would)."""
    connection = client.request(path, headers=headers or {}, query_string=query or None)
    async with connection:
        await connection.send_complete()
        body = b""
        async with asyncio.timeout(2.0):
            while chunk := await connection.receive():
                body += chunk
                assert connection.status_code != 200, f"{path} answered with a stream: {body[:100]!r}"
    assert connection.headers is not None and connection.status_code is not None
    return connection.status_code, orjson.loads(body), connection.headers


async def create(client: TestClientProtocol, headers: dict[str, str], title: str = "t") -> dict[str, Any]:
    response = await client.post("/api/notes", json={"title": title, "content": "c"}, headers=headers)
    assert response.status_code == 201
    return await response.get_json()  # type: ignore[no-any-return]


# --- who gets a stream ---------------------------------------------------------------------------


async def test_api_stream_without_a_valid_token_is_401_json(client: TestClientProtocol) -> None:
    status, body, headers = await refused(client, "/api/events")
    assert (status, body) == (401, {"error": "Token required"})
    assert headers["WWW-Authenticate"] == "Bearer"
    status, body, _ = await refused(client, "/api/events", bearer("nst_not-a-token"))
    assert (status, body) == (401, {"error": "Invalid token"})


async def test_browser_stream_without_a_session_is_401_json(client: TestClientProtocol) -> None:
    status, body, headers = await refused(client, "/events")
    assert (status, body) == (401, {"error": "Login required"})
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://elsewhere.example"},
        {"Origin": "null"},  # a sandboxed frame or a file: page
        {"Origin": "http://[::1"},  # not a URL
        {"Origin": ""},
    ],
    ids=["sec-fetch-site", "origin", "null-origin", "malformed-origin", "empty-origin"],
)
async def test_cross_site_requests_are_403(
    client: TestClientProtocol, alice: dict[str, str], factory: Any, headers: dict[str, str]
) -> None:
    forbidden = (403, {"error": "Cross-site request"})
    assert (await refused(client, "/api/events", {**alice, **headers}))[:2] == forbidden
    await login(client, "alice@example.com")
    assert (await refused(client, "/events", headers))[:2] == forbidden


async def test_same_origin_requests_get_a_stream(client: TestClientProtocol, alice: dict[str, str]) -> None:
    headers = {**alice, "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    async with opened(client, headers=headers) as stream:
        assert stream.connection.headers["Content-Type"].startswith("text/event-stream")
        assert "no-store" in stream.connection.headers["Cache-Control"]
        assert stream.connection.headers["X-Accel-Buffering"] == "no"


@pytest.mark.parametrize("cursor", ["nonsense", "", "é"], ids=["garbage", "empty", "non-ascii"])
async def test_a_bad_last_event_id_is_400(
    client: TestClientProtocol, alice: dict[str, str], cursor: str
) -> None:
    status, body, _ = await refused(client, "/api/events", alice, since=cursor)
    assert (status, body["error"]) == (400, "Invalid cursor")
    if cursor.isascii():
        status, body, _ = await refused(client, "/api/events", {**alice, "Last-Event-ID": cursor or "x"})
        assert (status, body["error"]) == (400, "Invalid cursor")


async def test_another_users_cursor_is_400(
    client: TestClientProtocol, alice: dict[str, str], factory: Any
) -> None:
    await factory.user("bob")
    bob = bearer(await api_token(client, "bob@example.com"))
    cursor = (await (await client.get("/api/changes", headers=bob)).get_json())["cursor"]
    status, body, _ = await refused(client, "/api/events", {**alice, "Last-Event-ID": cursor})
    assert (status, body["error"]) == (400, "Invalid cursor")


# --- what it sends -------------------------------------------------------------------------------


async def test_a_write_arrives_as_one_event_with_the_feed_cursor(
    client: TestClientProtocol, alice: dict[str, str]
) -> None:
    async with opened(client, headers=alice) as stream:
        note = await create(client, alice, "first")
        event = await stream.next_change(within=1.0)
        assert event.kind == "note"
        assert event.data["id"] == note["id"]
        assert event.data["title"] == "first"
        assert event.data["deleted_at"] is None
        # The event's id is the feed's cursor after it: nothing more is new from there.
        response = await client.get("/api/changes", query_string={"since": event.id}, headers=alice)
        after = await response.get_json()
        assert after == {"changes": [], "cursor": event.id, "more": False}


async def test_a_stream_without_a_cursor_starts_at_now(
    client: TestClientProtocol, alice: dict[str, str]
) -> None:
    await create(client, alice, "before")
    async with opened(client, headers=alice) as stream:
        after = await create(client, alice, "after")
        event = await stream.next_change(within=1.0)
        assert event.data["id"] == after["id"]  # "before" is not sent


async def test_reconnecting_sends_what_was_missed_once_then_live(
    client: TestClientProtocol, alice: dict[str, str]
) -> None:
    async with opened(client, headers=alice) as stream:
        cursor = stream.opening_id  # type: ignore[attr-defined]
    kept = await create(client, alice, "kept")
    await client.patch(f"/api/notes/{kept['id']}", json={"title": "kept, edited"}, headers=alice)
    gone = await create(client, alice, "gone")
    await client.delete(f"/api/notes/{gone['id']}", headers=alice)
    await client.delete(f"/api/trash/{gone['id']}", headers=alice)
    async with opened(client, headers={**alice, "Last-Event-ID": cursor}) as stream:
        first = await stream.next_change()
        second = await stream.next_change()
        assert (first.kind, first.data["id"], first.data["title"]) == ("note", kept["id"], "kept, edited")
        assert (second.kind, second.data) == ("deleted", {"id": gone["id"]})
        live = await create(client, alice, "live")
        third = await stream.next_change()
        assert third.data["id"] == live["id"]  # and not `kept` or `gone` again
        with pytest.raises(TimeoutError):
            await stream.next_change(within=0.3)


async def test_the_header_wins_over_since(client: TestClientProtocol, alice: dict[str, str]) -> None:
    async with opened(client, headers=alice) as stream:
        start = stream.opening_id  # type: ignore[attr-defined]
    one = await create(client, alice, "one")
    async with opened(client, headers=alice) as stream:
        after_one = stream.opening_id  # type: ignore[attr-defined]
    two = await create(client, alice, "two")
    async with opened(client, headers={**alice, "Last-Event-ID": after_one}, since=start) as stream:
        assert (await stream.next_change()).data["id"] == two["id"]
    async with opened(client, headers=alice, since=start) as stream:
        assert (await stream.next_change()).data["id"] == one["id"]


@pytest.fixture
def quick_heartbeat(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(events_heartbeat_seconds=0.1)
    return settings


@pytest.mark.usefixtures("quick_heartbeat")
async def test_heartbeats_are_comment_lines(client: TestClientProtocol, alice: dict[str, str]) -> None:
    async with opened(client, headers=alice) as stream:
        beat = await stream.next(within=1.0)
        assert beat is not None and beat.comments == ["heartbeat"] and not beat.fields


# --- how many ------------------------------------------------------------------------------------


@pytest.fixture
def limits(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(events_per_user=2, events_per_worker=3)
    return settings


@pytest.mark.usefixtures("limits")
async def test_one_stream_too_many_for_the_user_is_429_then_the_worker_503(
    client: TestClientProtocol, alice: dict[str, str], factory: Any
) -> None:
    async with opened(client, headers=alice), opened(client, headers=alice):
        status, body, headers = await refused(client, "/api/events", alice)
        assert (status, body) == (429, {"error": "Too many open streams for this account"})
        assert int(headers["Retry-After"]) > 0
        await factory.user("bob")
        bob = bearer(await api_token(client, "bob@example.com"))
        async with opened(client, headers=bob):
            status, body, headers = await refused(client, "/api/events", bob)
            assert (status, body) == (503, {"error": "Too many open streams on this server"})
            assert int(headers["Retry-After"]) > 0
    async with opened(client, headers=alice):  # closed streams give their places back
        pass


# --- when it ends --------------------------------------------------------------------------------


async def test_revoking_the_token_ends_its_stream(client: TestClientProtocol, alice: dict[str, str]) -> None:
    async with opened(client, headers=alice) as stream:
        assert (await client.delete("/api/token", headers=alice)).status_code == 204
        await stream.until_end(within=2.0)


async def test_a_token_revoked_elsewhere_ends_its_stream(
    client: TestClientProtocol, alice: dict[str, str], factory: Any
) -> None:
    other = bearer(await api_token(client, "alice@example.com"))
    async with opened(client, headers=alice) as stream:
        tokens = await (await client.get("/api/tokens", headers=other)).get_json()
        mine = max(token["id"] for token in tokens if token["last_used_at"] is not None)
        for token in tokens:
            if token["id"] != mine:
                await client.delete(f"/api/tokens/{token['id']}", headers=other)
        await stream.until_end(within=2.0)


async def test_logout_ends_the_browser_stream(client: TestClientProtocol, factory: Any) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    async with opened(client, "/events") as stream:
        await post_form(client, "/logout", {}, form_page="/notes")
        await stream.until_end(within=2.0)


async def test_a_password_change_ends_the_other_browsers_streams(app: Quart, factory: Any) -> None:
    await factory.user("alice")
    here, there = app.test_client(), app.test_client()
    await login(here, "alice@example.com")
    await login(there, "alice@example.com")
    async with opened(there, "/events") as other, opened(here, "/events") as own:
        new = "another password 1"
        form = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
        response = await post_form(here, "/settings/password", form, form_page="/settings")
        assert response.status_code == 302
        await other.until_end(within=2.0)
        with pytest.raises(TimeoutError):  # the session that changed it stays signed in
            await own.next_change(within=0.5)


async def test_turning_two_factor_on_ends_the_other_browsers_streams(
    app: Quart, factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await factory.user("alice")
    here, there = app.test_client(), app.test_client()
    await login(here, "alice@example.com")
    await login(there, "alice@example.com")
    token = bearer(await api_token(here, "alice@example.com"))
    async with opened(there, "/events") as other, opened(here, headers=token) as api:
        await enrol(here, Clock(monkeypatch))
        await other.until_end(within=2.0)
        await api.until_end(within=2.0)  # enrolment revokes API tokens too


@pytest.mark.parametrize("how", ["deactivated", "deleted"])
async def test_a_deactivated_or_deleted_account_loses_its_streams(
    client: TestClientProtocol, alice: dict[str, str], store: Store, how: str
) -> None:
    async with opened(client, headers=alice) as stream:
        async with store.write():
            if how == "deactivated":
                await users.set_active(store, email="alice@example.com", active=False)
            else:
                user = await (await client.get("/api/me", headers=alice)).get_json()
                await users.delete_user(store, user_id=user["id"])
        await stream.until_end(within=2.0)


async def test_a_new_security_stamp_ends_the_streams_signed_in_before(
    app: Quart, client: TestClientProtocol, alice: dict[str, str], store: Store
) -> None:
    """As `find_token` and the session check do: a token or auth session made under an older stamp
    no longer signs in (the stamp changes under 2FA and password changes, also while in flight)."""
    await login(client, "alice@example.com")
    async with opened(client, headers=alice) as api, opened(client, "/events") as browser:
        user = await (await client.get("/api/me", headers=alice)).get_json()
        async with store.write():
            await users.bump_security_stamp(store, user_id=user["id"])
        await api.until_end(within=2.0)
        await browser.until_end(within=2.0)


async def test_a_stopping_worker_ends_streams_with_a_retry_hint(
    app: Quart, client: TestClientProtocol, alice: dict[str, str]
) -> None:
    live: Live = app.extensions["live"]
    async with opened(client, headers=alice) as stream:
        live.stop()
        events = await stream.until_end(within=1.0)
        assert [event.fields.keys() for event in events] == [{"retry"}]
        assert 1000 <= int(events[0].fields["retry"]) <= 5000
    status, body, headers = await refused(client, "/api/events", alice)
    assert (status, body) == (503, {"error": "The service is restarting"})
    assert int(headers["Retry-After"]) > 0
