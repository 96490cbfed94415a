"""What a whole GET /api/notes costs without each of its pieces, in process, µs (best of R x N):

    flock /tmp/bench.lock .venv/bin/python -m bench.per_request.without     # a temporary SQLite

`layers.py` times each piece on its own; this times the whole request through the test client with
one piece taken out at a time (monkeypatched, then put back), so that what a piece costs inside a
real request (cold caches, the await chain around it) shows too. The full request is timed before
and after the variants; a saving below the gap between those two is noise.
"""

import collections
import logging
import os
import tempfile
import time

import uvloop
from quart import Quart, Response

from bench.per_request.reader import serving_reader
from notes_service.http.logs import AccessLog
from notes_service.http.web import CloseAfterUnreadBody
from notes_service.services import first_page, notes, tokens
from tests.databases import migrate
from tests.helpers import bearer

N = int(os.environ.get("N", 1000))
R = int(os.environ.get("R", 5))


async def main(url):
    async with serving_reader(url) as (app, store, user, secret):
        client = app.test_client()
        headers = bearer(secret)

        async def best():
            for _ in range(200):
                await client.get("/api/notes", headers=headers)
            times = []
            for _ in range(R):
                started = time.perf_counter()
                for _ in range(N):
                    response = await client.get("/api/notes", headers=headers)
                    assert response.status_code == 200, response.status_code
                times.append((time.perf_counter() - started) / N * 1e6)
            return min(times)

        page = await notes.list_notes_after(store, author_id=user.id, after=None, limit=21)
        found = await tokens.find_token(store, secret=secret)

        async def known_page(*_args, **_kwargs):
            return page

        async def known_token(*_args, **_kwargs):
            return found

        quart_make_response = Quart.make_response.__get__(app)
        converting_make_response = app.make_response  # quart-schema's wrapper

        async def make_response(result):
            if isinstance(result, Response):
                return await quart_make_response(result)
            return await converting_make_response(result)

        access_log = logging.getLogger("notes_service.access")
        bare_asgi = Quart.asgi_app.__get__(app)
        variants = {  # name -> [(object, attribute, value while timed)]
            "the page read (list_notes_after)": [(notes, "list_notes_after", known_page)],
            "the token read (find_token_with_first_page)": [
                (first_page, "find_token_with_first_page", known_token)
            ],
            "quart-schema's conversion of a returned Response": [(app, "make_response", make_response)],
            "before-request hooks": [(app, "before_request_funcs", collections.defaultdict(list))],
            "after-request hooks (security headers, no-store)": [
                (app, "after_request_funcs", collections.defaultdict(list))
            ],
            "the access line (middleware kept, logger off)": [(access_log, "disabled", True)],
            "the access line's write (record made, not handled)": [
                (access_log, "handle", lambda _record: None)
            ],
            "the access-log middleware": [(app, "asgi_app", CloseAfterUnreadBody(bare_asgi))],
            "the Connection: close watcher": [(app, "asgi_app", AccessLog(bare_asgi))],
            "both middlewares": [(app, "asgi_app", bare_asgi)],
        }
        before = await best()
        saved = {}
        for name, patches in variants.items():
            originals = [(target, attribute, getattr(target, attribute)) for target, attribute, _ in patches]
            for target, attribute, value in patches:
                setattr(target, attribute, value)
            try:
                saved[name] = await best()
            finally:
                for target, attribute, value in originals:
                    setattr(target, attribute, value)
        after = await best()
        print(f"| whole request, before and after the variants | {before:.1f} / {after:.1f} |")
        for name, took in saved.items():
            print(f"| without {name} | {took:.1f} (saves {min(before, after) - took:.1f}) |")


url = os.environ.get("DB") or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/n.db"
migrate(url)
uvloop.run(main(url))
