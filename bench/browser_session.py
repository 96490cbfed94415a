"""The four measurements of bench/browser.py, each in its own Chromium context signed in through the
real login form: opening notes from the list, typing while saves are slow, searching as one types,
and the scripts a first load transfers. Probes (the page's side) are in browser_probes.py.

Playwright's async API, so that the route slowing the saves (phase 2) can hold a request without
stopping everything else. No route is installed in the other phases: intercepting every request
would add Playwright's own round trip to what is measured; requests to other hosts are recorded
(the `request` event) instead of refused.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from tests.browser.support import CSP_WATCH

from . import browser_probes as probes

LOGIN_TIMEOUT_MS = 30_000
QUIET_MS = 1_300  # the editor saves ~1 s after typing stops (static/app/editor.js): a pause that lets it
STILL_MS = 300  # after the final results are drawn, how long they must stay (no older answer over them)
WORKER = "/static/app/events-worker.js"  # a SharedWorker's script: not a `response` Playwright reports
Row = dict[str, Any]


@dataclass(frozen=True)
class Settings:
    list_notes: int  # the opening user's notes
    search_notes: int  # the searching user's
    opens: int  # notes opened from the list (each a different one)
    bursts: int  # of keys, each followed by a pause that starts a save
    burst_keys: int
    save_delay_ms: int  # how long the route holds each save in the slow run
    key_delay_ms: int  # between keys in the editor
    search_key_delay_ms: int  # between keys in the search box (a person typing)
    queries: tuple[str, ...]
    search_rounds: int
    workers: int = 2  # of the server (`serve --workers`)


class Watch:
    """Requests to other hosts, and page errors, across every context of the run."""

    def __init__(self, server: str) -> None:
        self.host = urllib.parse.urlsplit(server).netloc
        self.elsewhere: list[str] = []
        self.errors: list[str] = []

    def request(self, request: Any) -> None:
        if urllib.parse.urlsplit(request.url).netloc != self.host and not request.url.startswith("data:"):
            self.elsewhere.append(request.url)

    def page(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self.console)

    def console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)


async def new_context(browser: Any, server: str, watch: Watch) -> Any:
    """A fresh context (no cache, own cookies), watched, with the probes' and the CSP watch's state."""
    context = await browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(LOGIN_TIMEOUT_MS)
    context.on("request", watch.request)
    await context.add_init_script(CSP_WATCH + probes.INIT)
    return context


async def sign_in(page: Any, email: str, password: str) -> None:
    """Through /login as a person does; on the home page after."""
    await page.goto("/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("main form button[type=submit]")
    await page.wait_for_url(re.compile(r".*/$"))


async def signed_in(browser: Any, server: str, email: str, password: str, watch: Watch) -> tuple[Any, Any]:
    """A fresh context and a page in it, signed in."""
    context = await new_context(browser, server, watch)
    page = await context.new_page()
    watch.page(page)
    await sign_in(page, email, password)
    return context, page


def quote(query: str) -> str:
    """As the app's encodeURIComponent (static/app/api.js) writes it in the URL."""
    return urllib.parse.quote(query, safe="-_.!~*'()")


async def first_page(page: Any, query: str = "", number: int = 1) -> list[Row]:
    """A page of the list as the app asks for it (same session), for what the page should show."""
    q = f"&q={quote(query)}" if query else ""
    answer = await page.request.get(f"/app/notes?page={number}{q}")
    assert answer.ok, f"/app/notes?q={query}: {answer.status}"
    notes: list[Row] = (await answer.json())["notes"]
    return notes


async def opens(page: Any, settings: Settings) -> list[Row]:
    """Phase 1: click `opens` different notes of the list (after two unmeasured ones), each timed from
    its click to the frame showing its text (the last sentence of its content, unique per note)."""
    await page.goto("/notes")
    await page.wait_for_selector(probes.ITEM)
    wanted = settings.opens + 2
    while len(await page.evaluate(probes.LIST_IDS)) < wanted and await page.is_visible(probes.MORE):
        shown = len(await page.evaluate(probes.LIST_IDS))
        await page.click(probes.MORE)
        await page.wait_for_function(f"() => ({probes.LIST_IDS})().length > {shown}")
    ids = (await page.evaluate(probes.LIST_IDS))[:wanted]
    content: dict[int, str] = {}
    for number in range(1, (wanted + 19) // 20 + 2):
        content.update({note["id"]: note["content"] for note in await first_page(page, number=number)})
    runs = []
    for index, note_id in enumerate(ids):
        text = content[note_id].strip().splitlines()[-1][-24:]
        await page.evaluate(probes.ARM_OPEN, {"id": note_id, "text": text})
        await page.click(f"{probes.ITEM}[data-id='{note_id}'] a")
        await page.wait_for_function(probes.OPEN_DONE)
        if index >= 2:  # the first two warm the path (module code, the server's caches)
            runs.append(await page.evaluate(probes.OPEN_RESULT))
        await page.wait_for_timeout(150)
    return runs


async def typing(page: Any, settings: Settings, delay_ms: int) -> Row:
    """Phase 2: bursts of keys in the open note's text, each followed by a pause that starts a save;
    every save (PATCH) is held `delay_ms` by a route, so the next burst is typed while it is away."""
    held = {"saves": 0}

    async def slow(route: Any) -> None:
        if route.request.method == "PATCH":
            held["saves"] += 1
            await asyncio.sleep(delay_ms / 1000)
        await route.continue_()

    await page.goto("/notes")
    await page.wait_for_selector(probes.ITEM)
    note_id = (await page.evaluate(probes.LIST_IDS))[0]
    await page.route("**/app/notes/*", slow)
    try:
        await page.click(f"{probes.ITEM}[data-id='{note_id}'] a")
        await page.wait_for_selector(f"{probes.PANE}[data-note-id='{note_id}']")
        await page.get_by_role("button", name="Edit").click()
        await page.focus(probes.TEXT)
        await page.keyboard.press("Control+End")
        await page.evaluate(probes.ARM_KEYS)
        typed = ""
        for burst in range(settings.bursts):
            words = f" w{burst}" + "abcdefghijklmnopqrstuvwxyz" * 4
            chunk = words[: settings.burst_keys]
            if burst:
                await page.wait_for_timeout(QUIET_MS)
            await page.keyboard.type(chunk, delay=settings.key_delay_ms)
            typed += chunk
        # Everything typed reaches the server: the last save answered, the status says so.
        await page.wait_for_function(
            "() => document.querySelector('.app-status').textContent === 'Saved'",
            timeout=delay_ms * 4 + 10_000,
        )
        found: Row = await page.evaluate(probes.KEYS_RESULT, note_id)
        stored = await (await page.request.get(f"/app/notes/{note_id}")).json()
    finally:
        await page.unroute("**/app/notes/*", slow)
    saves = found["saves"]
    keys = [
        {
            **key,
            "in_flight": any(save["start"] <= key["down"] <= save["end"] for save in saves),
        }
        for key in found["keys"]
    ]
    return {
        "delay_ms": delay_ms,
        "keys": keys,
        "saves": len(saves),
        "held": held["saves"],
        "kept": stored["content"].endswith(typed),
    }


async def searches(page: Any, settings: Settings) -> list[Row]:
    """Phase 3: each query typed a key at a time at a person's pace into the search box, timed from
    its last key to the list showing the query's first page (as the route answers it)."""
    await page.goto("/notes")
    await page.wait_for_selector(probes.ITEM)
    unfiltered = [note["id"] for note in await first_page(page)]
    runs = []
    for round_number in range(settings.search_rounds):
        for query in settings.queries:
            want = [note["id"] for note in await first_page(page, query)]
            assert want, f"the query {query!r} finds nothing: it measures nothing"
            await page.fill(probes.SEARCH, "")
            await page.wait_for_function(
                f"() => ({probes.LIST_IDS})().join() === '{','.join(map(str, unfiltered))}'"
            )
            await page.wait_for_timeout(300)
            path = f"/app/notes?page=1&q={quote(query)}"
            await page.evaluate(probes.ARM_SEARCH, {"query": query, "want": want, "path": path})
            await page.type(probes.SEARCH, query, delay=settings.search_key_delay_ms)
            await page.wait_for_function(probes.SEARCH_DONE)
            await page.wait_for_timeout(STILL_MS)
            found = await page.evaluate(probes.SEARCH_RESULT, path)
            runs.append({**found, "round": round_number + 1, "results": len(want)})
    return runs


async def scripts(browser: Any, server: str, email: str, password: str, watch: Watch) -> Row:
    """Phase 4: every script a fresh browser fetches from the login page to the notes list, with the
    bytes as it got them, their Content-Encoding, and their size gzipped here (level 9)."""
    got: dict[str, Row] = {}

    def keep(url: str, body: bytes, headers: dict[str, str]) -> None:
        got[url] = {"bytes": len(body), "encoding": headers.get("content-encoding", "identity"), "body": body}

    async def record(response: Any) -> None:
        if response.request.resource_type == "script" or response.url.endswith(".js"):
            keep(response.url, await response.body(), response.headers)

    pending: list[asyncio.Task[None]] = []
    context = await new_context(browser, server, watch)
    context.on("response", lambda response: pending.append(asyncio.ensure_future(record(response))))
    try:
        page = await context.new_page()
        watch.page(page)
        await sign_in(page, email, password)
        await page.goto("/notes")
        await page.wait_for_selector(probes.ITEM)
        await page.wait_for_timeout(500)  # not "networkidle": the events stream never ends
        await asyncio.gather(*pending)
        worker_seen = any(url.endswith(WORKER) for url in got)
        if not worker_seen:  # live.js starts it; Playwright does not report a shared worker's fetch
            answer = await context.request.get(WORKER)
            keep(server + WORKER, await answer.body(), answer.headers)
        csp = await page.evaluate("window.cspViolations")
    finally:
        await context.close()
    files = {
        urllib.parse.urlsplit(url).path: {
            "bytes": row["bytes"],
            "encoding": row["encoding"],
            "gzip_bytes": len(gzip.compress(row["body"], 9)),
        }
        for url, row in sorted(got.items())
    }
    return {"files": files, "worker_fetched_separately": not worker_seen, "csp_violations": csp}
