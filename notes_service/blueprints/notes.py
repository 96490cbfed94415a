"""A person's notes in the browser: list, read, write, pin, move to the trash."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from ..data import Store, current_store
from ..http.auth import login_required
from ..http.forms import NoteForm, form_status, text
from ..render.diffs import diff_pieces
from ..render.excerpts import excerpt
from ..render.markdown import plain_text, shown_html
from ..rules import SEARCH_MAX
from ..services import notes, search
from ..services.errors import Stale
from ..services.search_query import parse
from ..services.users import CurrentUser

blueprint = Blueprint("notes", __name__, url_prefix="/notes")
CHANGED_ELSEWHERE = (
    "This note was changed elsewhere after you opened it. Your text is below: copy what you need, "
    "then reload the note."
)
TRASHED = "Note moved to trash."
UNDO_KEY = "undo_trash"


@blueprint.get("")
@login_required
async def list_notes(user: CurrentUser) -> str:
    """The user's notes, pinned first then newest, one page at a time (past the end: the last page);
    with `q`, the notes matching it, best first, each with an excerpt around the match."""
    per_page = current_app.config["NOTES"].notes_per_page
    store = current_store()
    text = request.args.get("q", "")[:SEARCH_MAX]
    query = parse(text)
    if query:
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        found = await search.search_notes(
            store, author_id=user.id, query=query, limit=per_page + 1, offset=(page - 1) * per_page
        )
        return await render_template(
            "notes/search.html",
            notes=found[:per_page],
            excerpts=[excerpt(plain_text(note.content), query) for note in found[:per_page]],
            q=text,
            page=page,
            more=len(found) > per_page,
        )
    summary = await notes.summarize_notes(store, author_id=user.id)
    pages = max((summary.total + per_page - 1) // per_page, 1)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    items = await notes.list_notes(store, author_id=user.id, limit=per_page, offset=(page - 1) * per_page)
    return await render_template("notes/list.html", notes=items, page=page, pages=pages, summary=summary)


@blueprint.route("/new", methods=["GET", "POST"])
@login_required
async def create(user: CurrentUser) -> Any:
    """Write a new note."""
    form = await NoteForm.from_request()
    if request.method == "POST" and form.validate():
        store = current_store()
        async with store.write():
            note = await notes.create_note(store, author_id=user.id, **form.values())
        await flash("Note created.", "success")
        return redirect(url_for("notes.show", note_id=note.id))
    page = await render_template("notes/form.html", form=form, note=None)
    return page, form_status(form)


@blueprint.get("/<id:note_id>")
@login_required
async def show(user: CurrentUser, note_id: int) -> str:
    """One note (403 when it is someone else's, 404 when there is none)."""
    note = await notes.get_note_page(current_store(), note_id=note_id, author_id=user.id)
    return await render_template("notes/show.html", note=note, content=shown_html(note))


@blueprint.route("/<id:note_id>/edit", methods=["GET", "POST"])
@login_required
async def edit(user: CurrentUser, note_id: int) -> Any:
    """Change a note's title, content or pin, unless it changed since the form was opened (409)."""
    store = current_store()
    note = await notes.get_note(store, note_id=note_id, author_id=user.id)
    form = await NoteForm.from_request(
        title=note.title, content=note.content, is_pinned=note.is_pinned, version=str(note.version)
    )
    if request.method == "POST" and form.validate():
        try:
            async with store.write():
                await notes.update_note(
                    store, note_id=note.id, author_id=user.id, expected=form.opened_at(), **form.values()
                )
        except Stale:
            return await _conflict(store, user, form, note.id), 409
        await flash("Note saved.", "success")
        return redirect(url_for("notes.show", note_id=note.id))
    page = await render_template("notes/form.html", form=form, note=note)
    return page, form_status(form)


async def _conflict(store: Store, user: CurrentUser, form: NoteForm, note_id: int) -> str:
    """Nothing was written: the person's text goes back to them beside the current version and what
    theirs would change in it; the form now carries the current version, so saving it again keeps
    their text on purpose (SPEC §11)."""
    current = await notes.get_note(store, note_id=note_id, author_id=user.id)
    form.version.data = str(current.version)
    title, content = text(form.title), text(form.content)
    return await render_template(
        "notes/form.html",
        form=form,
        note=current,
        conflict=CHANGED_ELSEWHERE,
        title_changes=diff_pieces(current.title, title) if title != current.title else None,
        changes=diff_pieces(current.content, content),
    )


@blueprint.post("/<id:note_id>/delete")
@login_required
async def delete(user: CurrentUser, note_id: int) -> Any:
    """Move a note to the trash; the flash offers to undo it."""
    store = current_store()
    async with store.write():
        await notes.trash_note(store, note_id=note_id, author_id=user.id)
    await flash(TRASHED, "info")
    session[UNDO_KEY] = note_id  # the next page's flash offers "Undo" (base.html), once
    return redirect(url_for("notes.list_notes"))
