"""Logs carry one access line per request and app events, never a secret."""

from __future__ import annotations

import logging
import re

from notes_service.http.logs import FORMAT, event
from tests.helpers import PASSWORD, bearer, login, post_form


async def test_a_full_session_logs_no_password_token_cookie_or_session_id(app, client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="notes_service")
    await post_form(
        client,
        "/register",
        {
            "username": "alice",
            "email": "alice@example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    await post_form(client, "/logout", {}, form_page="/logout")
    await login(client, "alice@example.com", remember="y")
    await login(app.test_client(), "alice@example.com", "a wrong password")
    token_response = await app.test_client().post(
        "/api/token", json={"email": "alice@example.com", "password": PASSWORD}
    )
    token = (await token_response.get_json())["token"]
    await app.test_client().get(f"/api/notes?limit=5&token={token}", headers=bearer(token))
    await app.test_client().delete("/api/token", headers=bearer(token))
    cookies = [cookie.value for cookie in client.cookie_jar]

    text = "\n".join(record.getMessage() for record in caplog.records)
    for secret in [PASSWORD, "a wrong password", token, token[4:], *cookies]:
        assert secret not in text
    for name in ("registered", "login_ok", "login_failed", "token_issued", "token_revoked"):
        assert f"event={name}" in text


async def test_access_line_has_method_path_status_duration_and_client(app, caplog) -> None:
    caplog.set_level(logging.INFO, logger="notes_service.access")
    # The access log is ASGI middleware, so go through the ASGI app rather than the test client.
    import httpx

    transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        await http.get("/healthz?secret=shh")
    [line] = [r.getMessage() for r in caplog.records if r.name == "notes_service.access"]
    assert re.fullmatch(r"GET /healthz 200 \d+\.\dms client=192\.0\.2\.10", line)


async def test_a_client_that_leaves_before_the_answer_is_logged_as_499(app, caplog) -> None:
    # Quart answers a disconnect by cancelling the handler and returning without a response.
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    caplog.set_level(logging.INFO, logger="notes_service.access")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/readyz",
        "raw_path": b"/readyz",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("192.0.2.1", 1),
        "server": ("test", 80),
        "extensions": {},
    }
    await app(scope, receive, send)
    assert sent == []
    [line] = [r.getMessage() for r in caplog.records if r.name == "notes_service.access"]
    assert line.startswith("GET /readyz 499 ")


async def test_a_path_cannot_forge_or_split_a_log_line(app, caplog) -> None:
    import httpx

    caplog.set_level(logging.INFO, logger="notes_service.access")
    forged = "/x\n2026-01-01 00:00:00,000 INFO notes_service.account event=login_ok user_id=1\r\x85\u2028"
    transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        await http.get(forged.replace("\n", "%0a").replace("\r", "%0d"))
    [record] = [r for r in caplog.records if r.name == "notes_service.access"]
    line = logging.Formatter(FORMAT).format(record)
    assert len(line.splitlines()) == 1, line
    assert line.split(" ")[4] == "GET"  # date, time, level, logger: the fields stay in place
    assert line.split(" ")[6] == "404"
    assert "/x\\x0a2026-01-01\\x2000:00:00,000\\x20INFO" in line and "\\x0d\\x85\\u2028" in line


def test_event_values_are_escaped(caplog) -> None:
    caplog.set_level(logging.INFO, logger="notes_service.test")
    event(logging.getLogger("notes_service.test"), "throttled", client="1.2.3.4\nevent=login_ok\x1b[2J\\")
    [record] = caplog.records
    assert record.getMessage() == "event=throttled client=1.2.3.4\\x0aevent=login_ok\\x1b[2J\\x5c"
