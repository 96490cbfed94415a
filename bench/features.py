"""The scenarios of the features added since the first benchmark: the note page with Markdown,
sign-in with two-factor, the mail outbox and the export, on the service's SQLite database (where
seed.py puts their users).

Each figure stands on something measured in the same run: the Markdown page against a plain page
of the same length, round by round; 2FA sign-ins against what two cores can hash; the outbox as
messages per second through the real SMTP path; the export as time and memory, with no baseline.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

import httpx

from . import clients, logins, two_factor, wrk
from .export import ExportProbe
from .mail import Inbox, MailProbe, sqlite_path
from .mail import check as check_mail
from .scenarios import Case, Scenario, Timing, checked
from .seed import MARKDOWN_TITLE, PLAIN_TITLE, Dataset
from .servers import Server


def plan(service: Server, dataset: Dataset, timing: Timing, inbox: Inbox) -> list[Scenario]:
    """The feature scenarios, in the order a round runs them, each checked once before measuring."""
    return checked(
        [
            note_page(service, dataset, timing),
            two_factor_sign_ins(service, dataset, timing),
            mail_outbox(service, dataset, inbox),
            export(service, dataset),
        ]
    )


def note_page(service: Server, dataset: Dataset, timing: Timing) -> Scenario:
    """`GET /notes/<id>` for the 2 KB Markdown note and for the plain one of the same length."""
    account = dataset.pages
    cookie = clients.service_cookie(service.url, account.email, dataset.password)
    response = httpx.get(
        f"{service.url}/api/notes", headers={"Authorization": f"Bearer {account.token}"}, trust_env=False
    )
    response.raise_for_status()
    ids = {note["title"]: note["id"] for note in response.json()}
    cases = []
    for key, title, rendered in (("markdown", MARKDOWN_TITLE, "<table>"), ("plain", PLAIN_TITLE, "<p>")):
        url = f"{service.url}/notes/{ids[title]}"
        if rendered not in clients.page(url, cookie):  # the comparison needs the Markdown rendered
            raise RuntimeError(f"GET {url} has no {rendered}")
        load = wrk.Load(url, 64, timing.short_seconds, (cookie,))
        cases.append(Case(service.name, load, f"{key}, 2 KB", key=key))
    return Scenario("note-page", "GET /notes/<id> (HTML) c=64", tuple(cases))


def two_factor_sign_ins(service: Server, dataset: Dataset, timing: Timing) -> Scenario:
    """The flood of logins.py through `/login` and `/login/2fa` (two_factor.py), alone."""
    pool = two_factor.Pool(dataset.two_factor)
    asyncio.run(two_factor.check(service.url, pool, dataset.password))

    def flood() -> AbstractAsyncContextManager[logins.Flood]:
        return logins.flood(service.url, two_factor.browser_sign_in(pool, dataset.password))

    case = Case(
        service.name,
        None,
        f"POST /login + /login/2fa, {logins.CLIENTS} clients signing in",
        key="sign-ins",
        sign_ins=flood,
        seconds=timing.flood_seconds,
    )
    return Scenario("signin-2fa", "sign-in with 2FA (forms, TOTP), bcrypt cost 12", (case,))


def mail_outbox(service: Server, dataset: Dataset, inbox: Inbox) -> Scenario:
    """A password reset for each mail user, delivered over SMTP by both workers' senders."""
    check_mail(service.url, inbox, dataset.mail[0])
    database = sqlite_path(service.env["NOTES_DATABASE_URL"])
    probe = MailProbe(service.url, inbox, dataset.mail, database)
    case = Case(service.name, None, f"{len(dataset.mail)} resets → SMTP", probe=probe)
    return Scenario("mail", "mail outbox, 2 workers (req/s: messages/s)", (case,))


def export(service: Server, dataset: Dataset) -> Scenario:
    """The whole export of the 100,000-note user, by its browser session."""
    deep = dataset.deep
    cookie = clients.service_cookie(service.url, deep.email, dataset.password)
    case = Case(service.name, None, f"{deep.notes:,} notes", probe=ExportProbe(service, cookie, deep.notes))
    return Scenario("export", "GET /settings/export c=1 (req/s: 1 ÷ seconds)", (case,))
