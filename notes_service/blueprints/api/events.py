"""API live stream (SPEC §10): the caller's note changes as Server-Sent Events, for a bearer token.

The answer is `http/streams.py`'s; the machinery behind it, across workers and hosts, is `live/`.
"""

from __future__ import annotations

from quart import Blueprint, Response

from ...http.schemas import EventStream
from ...http.streams import stream_answer
from ...services.users import CurrentUser
from .routes import api_route

blueprint = Blueprint("api_events", __name__, url_prefix="/api/events")


@api_route(
    blueprint.get(""),
    tag="changes",
    responses=[(EventStream, 200)],
    errors=(400, 401, 403, 410, 429, 503),
)
async def stream_events(user: CurrentUser) -> Response:
    """`text/event-stream`: each change of the caller's notes as an event (`id:` its feed cursor,
    `event: note` with the note, or `event: deleted` with `{"id"}`), from `Last-Event-ID` (or
    `?since=`) on, else from now; a comment line every heartbeat. Ends when the token stops
    signing in; `retry:` when the server restarts."""
    return await stream_answer(user)
