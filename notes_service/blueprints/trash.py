"""The trash in the browser: list, restore, delete forever, empty (SPEC §9)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ..data import current_store
from ..http.auth import login_required
from ..services import trash
from ..services.trash import TrashPosition
from ..services.users import CurrentUser
from .api.trash import decode_trash_cursor, encode_trash_cursor

blueprint = Blueprint("trash", __name__, url_prefix="/trash")


@blueprint.get("")
@login_required
async def index(user: CurrentUser) -> str:
    """The user's trashed notes, most recently deleted first; "Older" follows a keyset cursor."""
    per_page = current_app.config["NOTES"].notes_per_page
    store = current_store()
    cursor = request.args.get("cursor")
    after = decode_trash_cursor(cursor) if cursor else None
    page = await trash.list_trash(store, author_id=user.id, after=after, limit=per_page + 1)
    more = len(page) > per_page
    next_cursor = (
        encode_trash_cursor(TrashPosition(page[per_page - 1].deleted_at, page[per_page - 1].id))
        if more
        else None
    )
    total = await trash.count_trash(store, author_id=user.id)
    return await render_template(
        "notes/trash.html",
        notes=page[:per_page],
        next_cursor=next_cursor,
        total=total,
        days=current_app.config["NOTES"].trash_days,
    )


@blueprint.post("/<id:note_id>/restore")
@login_required
async def restore(user: CurrentUser, note_id: int) -> Any:
    store = current_store()
    async with store.write():
        await trash.restore_note(store, note_id=note_id, author_id=user.id)
    await flash("Note restored.", "success")
    return redirect(url_for("notes.show", note_id=note_id))


@blueprint.post("/<id:note_id>/purge")
@login_required
async def purge(user: CurrentUser, note_id: int) -> Any:
    store = current_store()
    async with store.write():
        await trash.purge_note(store, note_id=note_id, author_id=user.id)
    await flash("Note deleted forever.", "info")
    return redirect(url_for("trash.index"))


@blueprint.post("/empty")
@login_required
async def empty(user: CurrentUser) -> Any:
    store = current_store()
    async with store.write():
        count = await trash.empty_trash(store, author_id=user.id)
    await flash("The trash is empty." if count else "The trash was already empty.", "info")
    return redirect(url_for("trash.index"))
