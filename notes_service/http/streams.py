"""A live stream as an HTTP answer (SPEC §10), shared by `GET /api/events` and `GET /events`.

Everything that can refuse a stream happens before its first byte, as a JSON error: a cross-site
request (403), a bad `Last-Event-ID` or `since` (400), an expired one (410), too many streams for
the user (429) or the worker (503, also while it stops), each with `Retry-After` where waiting
helps. Then the answer is `text/event-stream`, unbuffered by proxies, its body `live.sse.events`
(the changes after the starting point, then live ones), handed over to run after Quart is done with
the request (http/handover.py): nothing of the request is held while the stream waits.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import Response, current_app, request

from ..data import current_store
from ..live import Live, Refused, sse
from ..services import live as live_reads
from ..services.changes import ChangesPage, Since
from ..services.users import CurrentUser
from .connections import held_transport
from .errors import HTTPError
from .feed import cursor_writer, decode_cursor, read_page
from .handover import handover_of, placeholder
from .shapes import EXPORTED_NOTE

CROSS_SITE = "Cross-site request"
# nginx: pass each event on at once (deploy/nginx.conf says so too). Cache-Control: no-store is
# every answer's (http/web.py).
HEADERS = {"X-Accel-Buffering": "no"}


def refuse_cross_site() -> None:
    """403 for a request another site's page made: its browser says so (`Sec-Fetch-Site`), or its
    `Origin` names another host. Requests without either (API clients, old browsers) pass."""
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise HTTPError(403, CROSS_SITE)
    origin = request.headers.get("Origin")
    if origin is not None and _host_of(origin) != request.host.lower():
        raise HTTPError(403, CROSS_SITE)


def _host_of(origin: str) -> str | None:
    """The host (and port) an `Origin` names; None for one that names none (`null`, garbage)."""
    try:
        return urlsplit(origin).netloc.lower() or None
    except ValueError:  # "http://[::1": not a URL at all
        return None


def starting_place(user_id: int) -> Since | None:
    """Where the client was: `Last-Event-ID`, else `?since=`, else None (start at "now")."""
    cursor = request.headers.get("Last-Event-ID") or request.args.get("since")
    return None if cursor is None else decode_cursor(user_id, cursor)


async def stream_answer(user: CurrentUser) -> Response:
    """The user's live stream for this request, or the `HTTPError` that refuses it."""
    refuse_cross_site()
    since = starting_place(user.id)
    store = current_store()
    if since is None:
        since = Since(await live_reads.current_change_seq(store, user_id=user.id))
        first = ChangesPage([], since, more=False)
    else:
        first = await read_page(store, user_id=user.id, since=since, limit=sse.PAGE)
    live: Live = current_app.extensions["live"]
    handover = handover_of(request.scope)
    try:
        stream = await live.open(
            user.id,
            token_id=user.token_id,
            auth_session_id=user.auth_session_id,
            connection=held_transport(request.scope),
        )
    except Refused as refused:
        raise HTTPError(
            refused.status, refused.message, headers={"Retry-After": str(refused.retry_after)}
        ) from refused
    stream.task = handover  # what ends a stream that cannot end by itself (live/hub.py)
    body = sse.events(
        live.database,
        stream,
        since,
        first,
        cursor=cursor_writer(user.id),
        note_json=EXPORTED_NOTE.one,
        heartbeat=live.heartbeat,
        beats=live.hub.beats,
    )
    handover.take(body, ended=lambda: live.closed(stream))
    return Response(placeholder(handover), content_type="text/event-stream", headers=HEADERS)
