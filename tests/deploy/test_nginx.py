"""Through a real nginx: the shipped deploy/nginx.conf, TLS, two workers, the real client address.

The test rewrites only what must differ on a test machine (ports, certificate, paths, and the site's
name: `localhost` for notes.example.com) in the shipped config, starts nginx in the foreground on
loopback ports with a self-signed certificate, in front of `notes-service serve --workers 2` with
NOTES_TRUSTED_PROXY_HOPS=1. Any other name, `127.0.0.1` included, meets the refusing default server.
It all runs inside Debian's own nginx.conf (tests/nginx.py), whose access log would write every link
whole: the logs are read back for link tokens, in the request line and the Referer.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import PASSWORD
from tests.nginx import (
    DEBIAN_ACCESS_LOG,
    ERROR_LOG,
    ROOT,
    SITE_ACCESS_LOG,
    client,
    require_nginx,
    running_nginx,
)
from tests.server import Server, free_port

pytestmark = pytest.mark.sqlite_pass_only


@pytest.fixture(scope="module")
def nginx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of the module's nginx and service: their configs and logs."""
    return tmp_path_factory.mktemp("nginx")


@pytest.fixture(scope="module")
def sites(nginx_dir: Path) -> Iterator[tuple[str, str]]:
    """(https URL, plain http URL) of nginx in front of two notes-service workers."""
    require_nginx()
    with Server(nginx_dir, NOTES_TRUSTED_PROXY_HOPS="1", NOTES_AUTH_RATE_LIMIT="5/60") as server:
        server.start("--workers", "2")
        with running_nginx(nginx_dir, [server.port]) as urls:
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
    from notes_service.serving.server import load_config

    site = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream notes_service \{(.*?)\}", site, re.S)
    assert upstream is not None
    nginx_idle = re.search(r"keepalive_timeout (\d+)s;", upstream.group(1))
    assert nginx_idle is not None, "state nginx's upstream keepalive_timeout in deploy/nginx.conf"
    assert load_config().keep_alive_timeout > int(nginx_idle.group(1))


# Links carry their token in the query string (SPEC §7); Debian's `combined` access log would write
# each of these whole. The shipped config's own format writes a query only when it is plain (no
# %-escape, no `token` in any case) and `[redacted]` otherwise, in the request line and the Referer.
def secret() -> str:
    return f"SECRET{secrets.token_hex(12)}"


def wait_for_lines(path: Path, marker: str, count: int) -> list[str]:
    """The lines of `path` holding `marker`, once there are `count` (nginx logs just after answering)."""
    deadline = time.monotonic() + 5
    while True:
        lines = [line for line in path.read_text().splitlines() if marker in line] if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_no_link_token_reaches_nginx_logs_and_the_rest_stays(sites, nginx_dir) -> None:
    https, plain = sites
    agent = f"log-check/{secrets.token_hex(4)}"
    t = tokens = [secret() for _ in range(14)]
    # (method, base URL, target as sent, Referer or None, form, target and Referer as logged)
    cases = [
        ("GET", https, f"/password/reset?token={t[0]}", None, None, "/password/reset?[redacted]", "-"),
        ("GET", https, f"/email/verify?token={t[1]}", None, None, "/email/verify?[redacted]", "-"),
        ("GET", https, f"/password/reset?utm_source=mail&Token={t[2]}&x=1", None, None,
         "/password/reset?[redacted]", "-"),
        ("GET", https, f"/email/verify?TOKEN={t[3]}", None, None, "/email/verify?[redacted]", "-"),
        ("GET", https, f"/password/reset?%74oken={t[4]}", None, None, "/password/reset?[redacted]", "-"),
        ("GET", https, f"/password/reset?token={t[5]}&token={t[6]}", None, None,
         "/password/reset?[redacted]", "-"),
        ("GET", https, f"/password/reset%3Ftoken%3D{t[7]}", None, None, "/password/reset%3F[redacted]", "-"),
        ("GET", https, f"/login?next=%2Fpassword%2Freset%3Ftoken%3D{t[8]}", None, None,
         "/login?[redacted]", "-"),
        # The reset form's POST: the token in the body (never logged) and in the Referer.
        ("POST", https, "/password/reset", f"{https}/password/reset?token={t[9]}",
         {"token": t[9], "new_password": PASSWORD, "confirm_password": PASSWORD},
         "/password/reset", f"{https}/password/reset?[redacted]"),
        ("GET", https, "/notes?page=2&q=draft", f"{https}/email/verify?token={t[10]}", None,
         "/notes?page=2&q=draft", f"{https}/email/verify?[redacted]"),
        # Not logged (access_log off), but its 404 is an error, which nginx writes with the Referer.
        ("GET", https, "/static/missing.css", f"{https}/password/reset?token={t[11]}", None, None, None),
        ("GET", plain, f"/email/verify?token={t[12]}", None, None, "/email/verify?[redacted]", "-"),
        # A link to another name (NOTES_PUBLIC_URL not the server_name): the default server, 444.
        ("GET", plain.replace("localhost", "127.0.0.1"), f"/password/reset?token={t[13]}", None, None,
         "/password/reset?[redacted]", "-"),
    ]  # fmt: skip
    expected = []
    for method, base, target, referer, form, logged_target, logged_referer in cases:
        headers = {"User-Agent": agent} | ({"Referer": referer} if referer else {})
        try:
            with client(base) as http:
                status = http.request(method, target, headers=headers, data=form).status_code
        except httpx.RemoteProtocolError:
            status = 444  # nginx closed the connection without an answer
        if logged_target is not None:  # /static/ is not logged at all
            request, rest = f'"{method} {logged_target} HTTP/1.1" {status} ', f'"{logged_referer}" "{agent}" '
            expected.append(re.escape(request) + r"\d+ " + re.escape(rest))

    lines = wait_for_lines(nginx_dir / SITE_ACCESS_LOG, agent, len(expected))
    assert len(lines) == len(expected), "\n".join(lines)
    for pattern in expected:
        assert any(re.search(pattern, line) for line in lines), (pattern, lines)
    assert all(re.match(r"127\.0\.0\.1 - - \[[^]]+\] \"", line) for line in lines)
    statuses = {int(re.search(r'" (\d{3}) ', line).group(1)) for line in lines}
    assert {400, 301, 444} <= statuses  # the service's answer to a bad link, the redirect, the refusal
    logs = {name: (nginx_dir / name).read_text() for name in (SITE_ACCESS_LOG, DEBIAN_ACCESS_LOG, ERROR_LOG)}
    for token in tokens:
        for name, text in logs.items():
            assert token not in text, f"a link token in nginx's {name}"


def test_no_link_token_in_the_error_log_when_the_service_is_down(tmp_path) -> None:
    # nginx writes an error about a request with its whole request line, Referer and upstream URL.
    require_nginx()
    token, down = secret(), free_port()  # nothing listens on `down`
    with running_nginx(tmp_path, [down]) as (https, _), client(https) as http:
        referer = f"{https}/password/reset?token={token}"
        response = http.get(f"/password/reset?token={token}", headers={"Referer": referer})
        assert response.status_code == 502
        lines = wait_for_lines(tmp_path / SITE_ACCESS_LOG, "/password/reset", 1)
    assert len(lines) == 1 and '"GET /password/reset?[redacted] HTTP/1.1" 502 ' in lines[0]
    upstream = lines[0].rsplit('" ', 1)[1].split()  # request time, upstream address, status, time
    assert upstream[1:3] == [f"127.0.0.1:{down}", "502"], lines
    for name in (SITE_ACCESS_LOG, DEBIAN_ACCESS_LOG, ERROR_LOG):
        assert token not in (tmp_path / name).read_text(), f"a link token in nginx's {name}"
