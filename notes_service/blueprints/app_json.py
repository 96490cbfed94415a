"""The browser app's JSON routes (SPEC §11): the notes of the signed-in person, for the scripts of
the notes pages. Same origin, the cookie session, and every write with the CSRF token in an
`X-CSRF-Token` header (checked in `http/web.py` before any route runs). Errors are JSON
(`http/paths.py`). The rules are the API's: the same services, the same field rules (its pydantic
bodies), the same `ETag` and `If-Match` → 412 (`http/etags.py`); `/api` itself stays bearer-only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from quart import Blueprint, Response, current_app, jsonify, request

from ..data import current_store
from ..http.auth import current_user
from ..http.errors import HTTPError
from ..http.etags import etag, if_match_versions
from ..http.schemas import NoteCreate, NotePatch
from ..http.shapes import NOTE
from ..http.web import csrf_token
from ..render.markdown import markdown, shown_html
from ..rules import CONTENT_MAX, SEARCH_MAX
from ..services import notes, search
from ..services.rows import NoteRow
from ..services.users import CurrentUser
from .api.responses import no_content, note_response
from .api.validation import _checked
from .finding import find_notes

blueprint = Blueprint("app_json", __name__, url_prefix="/app")
LOGIN_REQUIRED = "Login required"
P = ParamSpec("P")


def signed_in(
    view: Callable[Concatenate[CurrentUser, P], Awaitable[Response]],
) -> Callable[P, Awaitable[Response]]:
    """Let only the signed-in person in, passing their `CurrentUser` first: others get 401 JSON
    (as `/events`), not the login page's redirect — a script cannot follow it."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        user = current_user()
        if user is None:
            raise HTTPError(401, LOGIN_REQUIRED)
        return await view(user, *args, **kwargs)

    return wrapper


async def _body(model: type[Any]) -> Any:
    """The JSON body as `model`: 400 when it is not an object, 422 naming each bad field."""
    return _checked(model, await request.get_json(force=True, silent=True))


@blueprint.get("/csrf")
@signed_in
async def get_csrf(user: CurrentUser) -> Response:
    """The token the scripts send in `X-CSRF-Token` (the forms' token, from the same secret)."""
    return jsonify({"csrf_token": csrf_token(), "user_id": user.id})


@blueprint.get("/notes")
@signed_in
async def list_notes(user: CurrentUser) -> Response:
    """One page of the person's notes as `/notes` shows it (pinned, then newest); with `tag`, or
    `tag:x` in `q`, that tag's; with words in `q`, the matches best first, each with the server's
    marked title and excerpt (`[[text, marked], …]`) and the number of matches."""
    per_page = current_app.config["NOTES"].notes_per_page
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found = await find_notes(
        current_store(),
        author_id=user.id,
        text=request.args.get("q", "")[:SEARCH_MAX],
        tag=request.args.get("tag") or None,
        page=page,
        per_page=per_page,
    )
    body: dict[str, Any] = {"notes": NOTE.all(found.notes), "page": found.page, "more": found.more}
    if found.kind == "search":
        body["titles"] = [excerpt.pieces for excerpt in found.titles]
        body["excerpts"] = [excerpt.pieces for excerpt in found.excerpts]
        body["count"] = found.count
        body["count_cap"] = search.COUNT_CAP
    elif found.kind == "tagged":
        body["tags"] = found.shown
    else:
        body["pages"] = found.pages
        body["total"] = found.summary.total if found.summary else 0
    return jsonify(body)


@blueprint.post("/notes")
@signed_in
async def create_note(user: CurrentUser) -> Response:
    """A new note (201, with its `ETag`)."""
    data = await _body(NoteCreate)
    store = current_store()
    async with store.write(alone=True):  # one statement on PostgreSQL
        note = await notes.create_note(store, author_id=user.id, **data.model_dump())
    return note_response(note, 201)


@blueprint.get("/notes/<id:note_id>")
@signed_in
async def get_note(user: CurrentUser, note_id: int) -> Response:
    """One note with its `version` and `ETag`, and the sanitized HTML its page shows."""
    note = await notes.get_note_page(current_store(), note_id=note_id, author_id=user.id)
    response = jsonify(
        {**NOTE.one(NoteRow._make(note[: len(NoteRow._fields)])), "html": str(shown_html(note))}
    )
    response.headers["ETag"] = etag(note.id, note.version)
    return response


@blueprint.patch("/notes/<id:note_id>")
@signed_in
async def update_note(user: CurrentUser, note_id: int) -> Response:
    """Change the fields given, if `If-Match` names the note's current ETag (else 412, unchanged)."""
    changes = (await _body(NotePatch)).model_dump(exclude_unset=True)
    store = current_store()
    async with store.write():
        note = await notes.update_note(
            store, note_id=note_id, author_id=user.id, expected=if_match_versions(note_id), **changes
        )
    return note_response(note)


@blueprint.delete("/notes/<id:note_id>")
@signed_in
async def trash_note(user: CurrentUser, note_id: int) -> Response:
    """Move the note to the trash (204); `If-Match` as for a change."""
    store = current_store()
    async with store.write():
        await notes.trash_note(store, note_id=note_id, author_id=user.id, expected=if_match_versions(note_id))
    return no_content()


@blueprint.post("/preview")
@signed_in
async def preview(user: CurrentUser) -> Response:
    """`{"content": …}` as the sanitized HTML a note's page would show for it (no parser in the browser)."""
    body = await request.get_json(force=True, silent=True)
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, str) or len(content) > CONTENT_MAX:
        raise HTTPError(422, "content must be text")
    return jsonify({"html": str(markdown(content))})
