"""Behind a trusted reverse proxy: real client, scheme and host (NOTES_TRUSTED_PROXY_HOPS)."""

from __future__ import annotations

import re

import httpx
import pytest

from notes_service import create_app
from tests.helpers import PASSWORD, Factory, app_settings

FORWARDED = {
    "X-Forwarded-For": "198.51.100.4",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "notes.example",
}


async def login_through(app, headers: dict[str, str]) -> httpx.Response:  # type: ignore[no-untyped-def]
    """Register-free login over the ASGI app (the proxy fix is ASGI middleware)."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1:8000", headers=headers
    ) as http:
        form_page = await http.get("/login?next=/notes")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form_page.text).group(1)
        # The cookie may be Secure while this hop is plain http, so carry it by hand as a browser would.
        cookie = "; ".join(f"{name}={value}" for name, value in form_page.cookies.items())
        http.cookies.clear()
        return await http.post(
            "/login",
            data={"email": "alice@example.com", "password": PASSWORD, "csrf_token": token, "next": "/notes"},
            headers={"Cookie": cookie},
        )


@pytest.fixture
async def proxied_app(database_url):  # type: ignore[no-untyped-def]
    app = create_app(app_settings(database_url, trusted_proxy_hops=1))
    async with app.test_app():
        await Factory(app.extensions["database"].store(), app.extensions["hasher"]).user("alice")
        yield app


async def test_cookies_are_secure_when_the_proxy_says_https(proxied_app) -> None:
    response = await login_through(proxied_app, FORWARDED)
    assert response.status_code == 302 and response.headers["location"] == "/notes"
    cookies = response.headers.get_list("set-cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)


async def test_cookies_over_https_have_host_prefixed_names_and_still_sign_in(proxied_app) -> None:
    response = await login_through(proxied_app, FORWARDED)
    names = {cookie.split("=", 1)[0] for cookie in response.headers.get_list("set-cookie")}
    assert names == {"__Host-notes_auth", "__Host-notes_session", "__Host-notes_device"}
    transport = httpx.ASGITransport(app=proxied_app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        cookie = "; ".join(c.split(";", 1)[0] for c in response.headers.get_list("set-cookie"))
        notes = await http.get("/notes", headers={**FORWARDED, "Cookie": cookie})
    assert notes.status_code == 200  # the prefixed cookie is read back on the next request


async def test_external_urls_use_the_forwarded_scheme_and_host(proxied_app) -> None:
    transport = httpx.ASGITransport(app=proxied_app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        token = (
            await http.post("/api/token", json={"email": "alice@example.com", "password": PASSWORD})
        ).json()
        auth = {"Authorization": f"Bearer {token['token']}", **FORWARDED}
        created = await http.post("/api/notes", json={"title": "t", "content": "c"}, headers=auth)
    assert created.headers["location"].startswith("https://notes.example/api/notes/")


async def test_without_trusted_hops_forwarded_headers_are_ignored(database_url) -> None:
    app = create_app(app_settings(database_url))
    async with app.test_app():
        await Factory(app.extensions["database"].store(), app.extensions["hasher"]).user("alice")
        response = await login_through(app, FORWARDED)
    cookies = response.headers.get_list("set-cookie")
    assert cookies and not any("Secure" in cookie for cookie in cookies)


async def test_with_a_public_url_no_host_header_chooses_where_links_point(database_url) -> None:
    app = create_app(app_settings(database_url, trusted_proxy_hops=1, public_url="https://notes.example.com"))
    async with app.test_app():
        await Factory(app.extensions["database"].store(), app.extensions["hasher"]).user("alice")
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://evil.example") as http:
            login = {"email": "alice@example.com", "password": PASSWORD}
            token = (await http.post("/api/token", json=login)).json()["token"]
            auth = {"Authorization": f"Bearer {token}", **FORWARDED, "X-Forwarded-Host": "evil.example"}
            for title in ("one", "two"):
                created = await http.post("/api/notes", json={"title": title, "content": "c"}, headers=auth)
            listed = await http.get("/api/notes?limit=1", headers=auth)
    assert created.headers["location"].startswith("https://notes.example.com/api/notes/")
    assert listed.headers["link"].startswith("<https://notes.example.com/api/notes?")
