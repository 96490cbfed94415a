"""Logs carry one access line per request and app events, never a secret."""

from __future__ import annotations

import logging
import re

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
