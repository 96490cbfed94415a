"""Through a real nginx: the shipped deploy/nginx.conf, TLS, two workers, the real client address.

The test rewrites only what must differ on a test machine (ports, certificate, paths, and the site's
name: `localhost` for notes.example.com) in the shipped config, starts nginx in the foreground on
loopback ports with a self-signed certificate, in front of `notes-service serve --workers 2` with
NOTES_TRUSTED_PROXY_HOPS=1. Any other name, `127.0.0.1` included, meets the refusing default server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import PASSWORD
from tests.nginx import ROOT, client, require_nginx, running_nginx
from tests.server import Server


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(https URL, plain http URL) of nginx in front of two notes-service workers."""
    require_nginx()
    tmp_path = tmp_path_factory.mktemp("nginx")
    with Server(tmp_path, NOTES_TRUSTED_PROXY_HOPS="1", NOTES_AUTH_RATE_LIMIT="5/60") as server:
        server.start("--workers", "2")
        with running_nginx(tmp_path, [server.port]) as urls:
            yield urls


@pytest.fixture(scope="module")
def proxied(sites: tuple[str, str]) -> str:
    return sites[0]


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_plain_http_is_redirected_to_https(sites) -> None:
    response = httpx.get(f"{sites[1]}/notes", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"].startswith("https://")


def test_register_and_login_over_https_with_secure_cookies(proxied) -> None:
    with client(proxied) as http:
        page = http.get("/register").text
        response = http.post(
            "/register",
            data={"username": "proxied", "email": "proxied@example.com", "password": PASSWORD,
                  "confirm_password": PASSWORD, "csrf_token": csrf(page)},
        )  # fmt: skip
        assert response.status_code == 302 and response.headers["location"] == "/"
        cookies = response.headers.get_list("set-cookie")
        assert cookies and all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies)
        assert "Welcome, proxied" in http.get("/").text

        redirect = http.get("/notes/new?x=1")  # a page that needs login, from a new browser
        anonymous = client(proxied).get("/notes/new?x=1")
        assert redirect.status_code == 200
        assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/login?next=")

        token = http.post("/api/token", json={"email": "proxied@example.com", "password": PASSWORD}).json()
        created = http.post(
            "/api/notes",
            json={"title": "t", "content": "c"},
            headers={"Authorization": f"Bearer {token['token']}"},
        )
        assert created.headers["location"].startswith(f"{proxied}/api/notes/")  # https, the public host


def test_static_files_are_served_by_nginx(proxied) -> None:
    # The app serves /static too, but only nginx's `expires 7d` gives it a week (Quart says 12 h).
    with client(proxied) as http:
        response = http.get("/static/style.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
    assert response.headers["cache-control"] == f"max-age={7 * 24 * 3600}"
    assert "expires" in response.headers
    assert response.content == (ROOT / "notes_service" / "static" / "style.css").read_bytes()


def refused(url: str, **options: Any) -> bool:
    """True when nginx ends the connection without any answer (444, or a refused TLS handshake)."""
    try:
        with client(url) as http:
            http.get("/", **options)
    except (httpx.ConnectError, httpx.RemoteProtocolError):
        return True
    return False


def test_unknown_hosts_are_refused_on_both_ports(sites) -> None:
    https, http = (urlsplit(url) for url in sites)
    assert refused(f"http://127.0.0.1:{http.port}")  # Host: 127.0.0.1:PORT
    assert refused(sites[1], headers={"Host": "evil.example"})
    assert refused(f"https://127.0.0.1:{https.port}")  # no name in the handshake
    assert refused(sites[0], extensions={"sni_hostname": "evil.example"})
    assert refused(sites[0], headers={"Host": "evil.example"})  # our name in SNI, another in Host
    assert not refused(sites[0]) and not refused(sites[1])


def test_throttling_keys_on_the_real_client_not_a_spoofed_header(proxied) -> None:
    with client(proxied) as http:
        statuses = [
            http.post(
                "/api/users",
                json={"username": f"spoof{n}", "email": f"spoof{n}@example.com", "password": PASSWORD},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(6)
        ]
    assert statuses[:5] == [201] * 5
    assert statuses[5] == 429


def test_the_service_keeps_idle_connections_longer_than_nginx_does() -> None:
    # Otherwise nginx can reuse an upstream connection the service is closing, and lose that request.
    from notes_service.server import load_config

    site = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream notes_service \{(.*?)\}", site, re.S)
    assert upstream is not None
    nginx_idle = re.search(r"keepalive_timeout (\d+)s;", upstream.group(1))
    assert nginx_idle is not None, "state nginx's upstream keepalive_timeout in deploy/nginx.conf"
    assert load_config().keep_alive_timeout > int(nginx_idle.group(1))
