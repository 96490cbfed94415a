"""Two hosts behind one nginx: whichever instance answers, the service behaves as one.

Two `notes-service serve --workers 2` processes stand for two hosts: the same secret key, one
throwaway PostgreSQL database, one Redis (under this run's own key prefix) and one SMTP server,
each on its own port; the shipped nginx config puts both in its `upstream`. The tests reach a host
directly (with the headers nginx would set) when it matters which one answers, and nginx otherwise.
PostgreSQL only (NOTES_TEST_DATABASE=postgresql): hosts cannot share a SQLite file.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from tests.databases import BACKEND, pg_database, pg_value
from tests.helpers import CSRF_PATTERN, PASSWORD, REDIS_URL, SECRET_KEY, redis_prefix_of_test
from tests.mailbox import Mailbox
from tests.nginx import client, require_nginx, running_nginx
from tests.server import Server

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql", reason="hosts share a PostgreSQL database (NOTES_TEST_DATABASE=postgresql)"
)
LIMIT = 4  # NOTES_AUTH_RATE_LIMIT: attempts per 60 s per address, per route, and per account
WAIT_SECONDS = 10.0
TOO_MANY = re.compile(r"Too many attempts\. Please wait \d+ seconds and try again\.")


@dataclass
class Cluster:
    proxy: str  # nginx's https URL
    hosts: list[Server]
    mailbox: Mailbox
    database_url: str
    addresses: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def direct(self, host: Server, address: str, cookie: str | None = None) -> httpx.Client:
        """A client of `host` alone, as nginx forwards a request from `address` (https, the site's name)."""
        site = urlsplit(self.proxy).netloc
        headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https", "X-Forwarded-Host": site}
        if cookie:
            headers["Cookie"] = cookie
        return httpx.Client(base_url=host.url, headers=headers, timeout=10)

    def sign_up(self, username: str, host: int = 0) -> str:
        """A new account, registered on `hosts[host]` from an address of its own; its email."""
        email = f"{username}@example.com"
        with self.direct(self.hosts[host], f"192.0.2.{next(self.addresses)}") as http:
            response = http.post(
                "/api/users", json={"username": username, "email": email, "password": PASSWORD}
            )
        assert response.status_code == 201, response.text
        return email


@pytest.fixture(scope="module")
def cluster(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two hosts and nginx, started once for this module; everything stopped and dropped after."""
    require_nginx()
    with ExitStack() as stack:
        prefix = stack.enter_context(redis_prefix_of_test())
        database_url = stack.enter_context(pg_database(database_template))
        mailbox = Mailbox().up()
        stack.callback(mailbox.down)
        settings = {
            "NOTES_SECRET_KEY": SECRET_KEY,
            "NOTES_TRUSTED_PROXY_HOPS": "1",
            "NOTES_REDIS_URL": REDIS_URL,
            "NOTES_REDIS_PREFIX": prefix,
            "NOTES_AUTH_RATE_LIMIT": f"{LIMIT}/60",
            "NOTES_SMTP_URL": mailbox.url,
            "NOTES_MAIL_POLL_SECONDS": "0.05",
            "NOTES_HOUSEKEEPING_SECONDS": "0.2",
            "NOTES_TRASH_DAYS": "1",
        }
        hosts = [
            stack.enter_context(Server(tmp_path_factory.mktemp(f"host{n}"), database_url, **settings))
            for n in (1, 2)
        ]
        for host in hosts:
            host.start("--workers", "2")
        proxy, _ = stack.enter_context(
            running_nginx(tmp_path_factory.mktemp("nginx"), [h.port for h in hosts])
        )
        yield Cluster(proxy, hosts, mailbox, database_url)


def cookie_of(browser: httpx.Client) -> str:
    """The browser's cookies as a `Cookie` header, to show them to a host directly."""
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def csrf(page: str) -> str:
    match = CSRF_PATTERN.search(page)
    assert match, page
    return match.group(1)


def test_a_browser_session_from_the_proxy_is_valid_on_both_hosts_and_ends_on_both(cluster) -> None:
    email = cluster.sign_up("roaming")
    with client(cluster.proxy) as browser:
        response = browser.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf(browser.get("/login").text)},
        )
        assert response.status_code == 302, response.text
        for host in cluster.hosts:
            with cluster.direct(host, "198.51.100.7", cookie_of(browser)) as http:
                assert "Welcome, roaming" in http.get("/").text
        assert "Welcome, roaming" in browser.get("/").text

        token = csrf(browser.get("/logout").text)  # the form (and its cookie) from either host
        with cluster.direct(cluster.hosts[0], "198.51.100.7", cookie_of(browser)) as first:
            logout = first.post("/logout", data={"csrf_token": token})
        assert logout.status_code == 302 and logout.headers["location"] == "/login"
        with cluster.direct(cluster.hosts[1], "198.51.100.7", cookie_of(browser)) as second:
            refused = second.get("/notes")
        assert refused.status_code == 302 and refused.headers["location"].startswith("/login?next=")
        assert browser.get("/notes").status_code == 302


def test_wrong_passwords_on_either_host_spend_one_budget_per_account(cluster) -> None:
    email = cluster.sign_up("guessed")
    answers = []
    for attempt in range(LIMIT + 1):  # each from a new address: only the account's budget is shared
        with cluster.direct(cluster.hosts[attempt % 2], f"203.0.113.{attempt + 1}") as http:
            answers.append(http.post("/api/token", json={"email": email, "password": "not the password"}))
    assert [answer.status_code for answer in answers] == [401] * LIMIT + [429]
    assert TOO_MANY.fullmatch(answers[-1].json()["error"]) and int(answers[-1].headers["retry-after"]) > 0

    with client(cluster.proxy) as browser:  # the right password, in the browser, through nginx
        form = {"email": email, "password": PASSWORD, "csrf_token": csrf(browser.get("/login").text)}
        locked = browser.post("/login", data=form)
    assert locked.status_code == 429 and TOO_MANY.search(locked.text)


def test_every_message_is_delivered_once_though_both_hosts_send(cluster) -> None:
    emails = [cluster.sign_up(f"mail{n}", host=n % 2) for n in range(4)]  # each queues a confirmation
    for n, email in enumerate(emails):
        with cluster.direct(cluster.hosts[n % 2], f"198.51.100.{n + 20}") as http:
            assert http.post("/api/password/forgot", json={"email": email}).status_code == 202
    for email in emails:
        cluster.mailbox.wait_for(1, within=WAIT_SECONDS, to=email, subject="Reset your password")
    outbox_empty = _within(lambda: pg_value(cluster.database_url, "SELECT count(*) FROM mail_outbox") == 0)
    assert outbox_empty, "messages left in the outbox"
    for email in emails:
        subjects = sorted(message["Subject"] for message in cluster.mailbox.received(to=email))
        assert subjects == ["Confirm your email address", "Reset your password"]


def test_old_trash_is_purged_once_and_neither_host_fails(cluster) -> None:
    email = cluster.sign_up("tidy")
    with cluster.direct(cluster.hosts[1], "198.51.100.40") as http:
        token = http.post("/api/token", json={"email": email, "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        ids = [
            http.post("/api/notes", json={"title": f"n{n}", "content": "c"}, headers=auth).json()["id"]
            for n in range(3)
        ]
        for note_id in ids[:2]:
            assert http.delete(f"/api/notes/{note_id}", headers=auth).status_code == 204
    # Two of them were trashed two days ago (NOTES_TRASH_DAYS=1); the third is not in the trash.
    pg_value(
        cluster.database_url,
        "UPDATE notes SET deleted_at = now() - interval '2 days' WHERE id = ANY($1::int[])",
        ids[:2],
    )
    count = "SELECT count(*) FROM notes WHERE id = ANY($1::int[])"
    assert _within(lambda: pg_value(cluster.database_url, count, ids[:2]) == 0), "old trash not purged"
    assert pg_value(cluster.database_url, count, ids[2:]) == 1
    logs = "".join(host.log() for host in cluster.hosts)
    assert sum(int(n) for n in re.findall(r"event=expired_deleted .*trashed_notes=(\d+)", logs)) == 2
    assert "housekeeping_failed" not in logs and "Traceback" not in logs, logs


def _within(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
    """Whether `condition()` holds, asking every 50 ms for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
