"""Mail through `notes-service serve` (SPEC §7): a killed worker loses no message, two workers never
send one twice, and the emailed link completes the flow over HTTP."""

from __future__ import annotations

import asyncio
from collections import Counter
from urllib.parse import urlsplit

import httpx

from tests.helpers import PASSWORD
from tests.mailbox import Mailbox, link_in
from tests.server import Server

BURST = 200


def mail_server(tmp_path, database_url, mailbox: Mailbox) -> Server:
    return Server(
        tmp_path,
        database_url,
        NOTES_SMTP_URL=mailbox.url,
        NOTES_PUBLIC_URL="https://notes.example.com",
        NOTES_MAIL_POLL_SECONDS="0.1",
        NOTES_MAIL_RETRY_SECONDS="0.2",
    )


async def register(http: httpx.AsyncClient, name: str) -> None:
    user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    assert (await http.post("/api/users", json=user)).status_code == 201


async def test_a_message_queued_before_a_kill_9_arrives_once_after_restart(tmp_path, database_url) -> None:
    mailbox = Mailbox()  # not up yet: the first server cannot deliver
    try:
        with mail_server(tmp_path, database_url, mailbox).start() as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                await register(http, "alice")
                response = await http.post("/api/password/forgot", json={"email": "alice@example.com"})
                assert response.status_code == 202
            await asyncio.sleep(0.5)  # the sender has tried (and failed) at least once
            server.kill()  # SIGKILL: the worker dies with the messages unsent
        mailbox.up()
        with mail_server(tmp_path, database_url, mailbox).start() as server:
            (reset,) = await mailbox.arrive(subject="Reset your password", within=20)
            await mailbox.arrive(subject="Confirm your email address", within=20)
            # The link from the mail completes the flow against the restarted server.
            parts = urlsplit(link_in(reset))
            assert f"{parts.scheme}://{parts.netloc}" == "https://notes.example.com"
            token = parts.query.removeprefix("token=")
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                body = {"token": token, "new_password": "a brand new passphrase"}
                assert (await http.post("/api/password/reset", json=body)).status_code == 204
                login = {"email": "alice@example.com", "password": "a brand new passphrase"}
                assert (await http.post("/api/token", json=login)).status_code == 200
            await mailbox.arrive(subject="Your password was changed", within=20)
            await asyncio.sleep(0.5)
            log = server.log()  # both servers' lines (one workdir, one log file)
        assert "event=mail_sent" in log and "event=mail_retry" in log
        assert token not in log  # nor in any access line: links are in query strings
        assert Counter(message["Subject"] for message in mailbox.received()) == {
            "Reset your password": 1,
            "Confirm your email address": 1,
            "Your password was changed": 1,
        }
    finally:
        mailbox.down()


async def test_two_workers_deliver_each_of_a_burst_of_messages_exactly_once(tmp_path, database_url) -> None:
    mailbox = Mailbox().up()
    try:
        with mail_server(tmp_path, database_url, mailbox).start("--workers", "2") as server:
            limits = httpx.Limits(max_connections=50)
            async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
                await register(http, "alice")
                responses = await asyncio.gather(
                    *(
                        http.post("/api/password/forgot", json={"email": "alice@example.com"})
                        for _ in range(BURST)
                    )
                )
            assert Counter(response.status_code for response in responses) == {202: BURST}
            resets = await mailbox.arrive(BURST, subject="Reset your password", within=60)
            await asyncio.sleep(1.0)  # anything sent twice would have arrived by now
        assert len(mailbox.received(subject="Reset your password")) == BURST
        links = {link_in(message) for message in resets}
        assert len(links) == BURST  # every message once, each with its own link
    finally:
        mailbox.down()
