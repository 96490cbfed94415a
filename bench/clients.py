"""Single HTTP requests the scenarios need before they run: sign-ins, the last-page cursor, checks.

wrk replays fixed requests, so anything stateful happens here first, once: signing in through the
browser form to get a cookie session, and following `Link: rel="next"` to the cursor of the last
page. `expect` checks each URL once, because wrk counts a redirect to /login as a success.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')
NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')
MAX_LIMIT = 200


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30, trust_env=False)


def bearer(token: str) -> str:
    return f"Authorization: Bearer {token}"


def cookie_header(http: httpx.Client, names: tuple[str, ...]) -> str:
    missing = [name for name in names if name not in http.cookies]
    if missing:
        raise RuntimeError(f"sign-in did not set the cookies {missing}")
    return "Cookie: " + "; ".join(f"{name}={http.cookies[name]}" for name in names)


def service_cookie(base_url: str, email: str, password: str) -> str:
    """Sign in through the service's login form (CSRF token included); returns a Cookie header.

    The list page is fetched once after the login so that the flashed "Logged in" message is consumed
    and the cookie wrk replays is a quiet, steady session.
    """
    with client(base_url) as http:
        data = {"email": email, "password": password, "csrf_token": csrf_token(http.get("/login").text)}
        signed_in = http.post("/login", data=data)
        if signed_in.status_code != 302:
            raise RuntimeError(f"form sign-in failed: {signed_in.status_code}")
        http.get("/notes").raise_for_status()
        return cookie_header(http, ("notes_auth", "notes_session"))


def csrf_token(page: str) -> str:
    """The value of the page's `csrf_token` form field (a browser form must send it back)."""
    field = CSRF_FIELD.search(page)
    token = VALUE.search(field.group(0)) if field else None
    if token is None:
        raise RuntimeError("no csrf_token field on the page")
    return token.group(1)


def original_cookie(base_url: str, email: str, password: str) -> str:
    """Sign in through the original's Flask-Login form; returns a Cookie header."""
    with client(base_url) as http:
        signed_in = http.post("/login", data={"email": email, "password": password})
        if signed_in.status_code != 302:
            raise RuntimeError(f"original sign-in failed: {signed_in.status_code}")
        return cookie_header(http, ("session",))


def last_page_url(base_url: str, token: str, *, total: int, page: int) -> str:
    """The URL of the last `page`-sized page of a user with `total` notes, reached by cursor.

    Walks the list in the largest steps the API allows, sized so that exactly `page` notes remain
    after the last step; that step's `rel="next"` link, with `limit` set to `page`, is the last page.
    """
    remaining, url = total, f"/api/notes?limit={min(MAX_LIMIT, total - page)}"
    with client(base_url) as http:
        while True:
            response = http.get(url, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            remaining -= len(response.json())
            link = NEXT_LINK.search(response.headers.get("Link", ""))
            if link is None:
                raise RuntimeError(f"no next link with {remaining} notes left")
            url = _with_limit(link.group(1), min(MAX_LIMIT, remaining - page) or page)
            if remaining == page:
                return url


def _with_limit(url: str, limit: int) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["limit"] = str(limit)
    return urlunsplit(parts._replace(query=urlencode(query)))


def expect(url: str, header: str | None, status: int, *, method: str = "GET", json: object = None) -> None:
    """Fail unless one request with `header` gets `status` (before wrk replays it thousands of times)."""
    headers = dict([header.split(": ", 1)]) if header else {}
    response = httpx.request(method, url, headers=headers, json=json, trust_env=False, timeout=30)
    if response.status_code != status:
        raise RuntimeError(f"{method} {url} answered {response.status_code}, expected {status}")


def page(url: str, header: str) -> str:
    """The text of one GET with `header`; fails unless it answers 200."""
    response = httpx.get(url, headers=dict([header.split(": ", 1)]), trust_env=False, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}, expected 200")
    return response.text


def expect_notes(url: str, header: str, count: int) -> None:
    """Fail unless one GET with `header` answers 200 with a list of exactly `count` notes."""
    response = httpx.get(url, headers=dict([header.split(": ", 1)]), trust_env=False, timeout=30)
    found = len(response.json()) if response.status_code == 200 else None
    if found != count:
        raise RuntimeError(f"GET {url} answered {response.status_code} with {found} notes, expected {count}")


def expect_same_notes(url: str, baseline_url: str, header: str) -> None:
    """Fail unless a baseline answers with the notes the service does (the same ids in the same order,
    the same fields): a baseline that returned less would look faster than it is."""
    ours, theirs = (
        _ids_and_fields(httpx.get(where, headers=dict([header.split(": ", 1)]), trust_env=False, timeout=30))
        for where in (url, baseline_url)
    )
    if ours != theirs:
        raise RuntimeError(f"GET {baseline_url} answered {theirs} (ids, fields); the service {ours}")


def _ids_and_fields(response: httpx.Response) -> object:
    if response.status_code != 200:
        return response.status_code
    notes = response.json()
    return [note["id"] for note in notes], sorted({field for note in notes for field in note})
