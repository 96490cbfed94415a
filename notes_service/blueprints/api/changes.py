"""API change feed (SPEC §10): what changed in the caller's notes since a cursor, oldest first.

The feed itself is `services/changes.py`; its cursors and JSON are `http/feed.py`, which the live
streams share.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, jsonify

from ...data import Store, current_store
from ...http.feed import change_json, decode_cursor, encode_cursor, read_page
from ...http.schemas import ChangesOut, ChangesQuery
from ...services import changes_poll, tokens
from ...services.users import CurrentUser
from .routes import api_route

blueprint = Blueprint("api_changes", __name__, url_prefix="/api/changes")


async def _check_and_read_counters(store: Store, secret: str) -> tokens.FoundToken | None:
    """The token check, reading the user's feed counters too: a poll with nothing new reads
    nothing else (services/changes_poll.py)."""
    return await changes_poll.find_token_with_counters(store, secret=secret)


@api_route(
    blueprint.get(""),
    token=_check_and_read_counters,
    tag="changes",
    query=ChangesQuery,
    responses=[(ChangesOut, 200)],
    errors=(400, 401, 410, 422),
)
async def list_changes(user: CurrentUser, query: ChangesQuery) -> Any:
    """The caller's notes changed since `since`, each once in its latest state, a note deleted for
    good as `{"id", "deleted": true}`; without `since` every note (trashed ones too) and no deletion:
    a full sync. Go on from `cursor`; `more` says whether more follow now. Nothing new: no changes
    and the same cursor."""
    since = decode_cursor(user.id, query.since) if query.since is not None else None
    counters = changes_poll.counters_of(user)
    page = await read_page(
        current_store(), user_id=user.id, since=since, limit=query.limit, counters=counters
    )
    return jsonify(
        {
            "changes": [change_json(change) for change in page.changes],
            "cursor": encode_cursor(user.id, page.next),
            "more": page.more,
        }
    )
