"""Per-layer cost of GET /api/notes in process, in microseconds, best of R (5) x N (1,000) calls:

flock /tmp/bench.lock .venv/bin/python -m bench.per_request.layers    # a temporary SQLite
DB=postgresql+asyncpg://postgres@127.0.0.1/empty_db ... layers           # a fresh PostgreSQL db
SRC=/tmp/main ... layers                                                 # another checkout's package
"""

import os
import sys
import tempfile
import time

if "SRC" in os.environ:
    sys.path.insert(0, os.environ["SRC"])
import uvloop
from quart import Quart

from bench.per_request.reader import serving_reader
from notes_service.http.logs import AccessLog
from notes_service.http.schemas import NotesQuery
from notes_service.http.serializers import _encode
from notes_service.http.shapes import NOTE
from notes_service.http.web import CloseAfterUnreadBody
from notes_service.services import notes, tokens
from tests.databases import migrate
from tests.helpers import bearer

N = int(os.environ.get("N", 1000))
R = int(os.environ.get("R", 5))


async def best(fn, n=N):
    times = []
    for _ in range(R):
        t = time.perf_counter()
        for _ in range(n):
            await fn()
        times.append((time.perf_counter() - t) / n * 1e6)
    return min(times)


async def main(url):
    async with serving_reader(url) as (app, store, user, secret):
        client = app.test_client()
        h = bearer(secret)

        async def full():
            assert (await client.get("/api/notes", headers=h)).status_code == 200

        bare = Quart("bare")

        @bare.get("/api/notes")
        async def n():
            return {"id": 1, "title": "ceiling", "content": "a small JSON dict", "is_pinned": False}

        bc = bare.test_client()

        async def ceil():
            assert (await bc.get("/api/notes")).status_code == 200

        async def auth():
            await tokens.find_token(store, secret=secret)

        async def page():
            await notes.list_notes_after(store, author_id=user.id, after=None, limit=21)

        rows = await notes.list_notes_after(store, author_id=user.id, after=None, limit=21)

        async def ser():
            _encode(NOTE.all(rows[:20]))

        async def query():
            NotesQuery.model_validate({})

        res = {
            "full request (test client)": await best(full),
            "bare Quart app (test client)": await best(ceil),
            "token check (find_token)": await best(auth),
            "page read (list_notes_after)": await best(page),
        }
        if hasattr(notes, "list_token_notes_after"):

            async def both():
                await notes.list_token_notes_after(store, secret=secret, after=None, limit=21)

            res["token check + page, one statement"] = await best(both)
        res["rows -> dicts -> orjson"] = await best(ser)
        res["query validation (NotesQuery)"] = await best(query)

        # ASGI middleware around a no-op app, minus the no-op app alone.
        async def noop(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/api/notes",
            "client": ("127.0.0.1", 1),
            "http_version": "1.1",
            "headers": [],
        }

        async def rcv():
            return {"type": "http.request", "body": b""}

        async def snd(m):
            pass

        for name, mw in (
            ("access log (AccessLog)", AccessLog(noop)),
            ("CloseAfterUnreadBody", CloseAfterUnreadBody(noop)),
        ):

            async def wrapped(mw=mw):
                await mw(scope, rcv, snd)

            async def plain():
                await noop(scope, rcv, snd)

            res[name] = await best(wrapped, 10000) - await best(plain, 10000)
        async with app.test_request_context("/api/notes", headers=h):

            async def pre():
                await app.preprocess_request()

            res["before-request hooks"] = await best(pre)
            from quart import Response

            async def post():
                await app.process_response(Response(b"[]", mimetype="application/json"))

            res["after-request hooks + session"] = await best(post)
        for k, v in res.items():
            print(f"| {k} | {v:.1f} |")


url = os.environ.get("DB") or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/n.db"
migrate(url)
uvloop.run(main(url))
