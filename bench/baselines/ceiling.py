"""The ceiling: a bare Quart app that answers GET /api/notes with a small JSON dict.

No database, no authentication, no middleware: served by the service's own server (`notes-service
serve --app`: the same supervisor, sockets, hypercorn.toml and 2 uvloop workers), it is the most
that anything built on this stack can serve, so the service's req/s divided by this one's says how
much of the stack's budget it spends.
"""

from __future__ import annotations

from quart import Quart

app = Quart(__name__)


@app.get("/api/notes")
async def notes() -> dict[str, object]:
    return {"id": 1, "title": "ceiling", "content": "a small JSON dict", "is_pinned": False}
