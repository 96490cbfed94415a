"""The browser's live stream (SPEC §10): `GET /events` for the signed-in person, as the API's
`/api/events` is for a token. Errors are JSON (`http/paths.py`): a stream is not a page."""

from __future__ import annotations

from quart import Blueprint, Response

from ..http.auth import current_user
from ..http.errors import HTTPError
from ..http.streams import stream_answer

blueprint = Blueprint("events", __name__)
LOGIN_REQUIRED = "Login required"


@blueprint.get("/events")
async def stream_events() -> Response:
    user = current_user()
    if user is None:
        raise HTTPError(401, LOGIN_REQUIRED)
    return await stream_answer(user)
