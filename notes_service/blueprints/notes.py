"""A person's notes in the browser: list, read, write, pin, move to the trash."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from ..data import Store, current_store
from ..http.auth import login_required
from ..http.forms import NoteForm, form_status, tags_text, text
from ..render.diffs import diff_pieces
from ..render.markdown import shown_html
from ..rules import SEARCH_MAX
from ..services import notes, search, tags
from ..services.errors import Stale
from ..services.users import CurrentUser
from .finding import find_notes

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
    """The user's notes, pinned first then newest, one page at a time (past the end: the last page),
    with their tags and counts beside them; `tag` keeps to one tag; with `q`, the notes matching it,
    best first, each with an excerpt around the matches."""
    store = current_store()
    text = request.args.get("q", "")[:SEARCH_MAX]
    tag = request.args.get("tag") or None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = current_app.config["NOTES"].notes_per_page
    found = await find_notes(store, author_id=user.id, text=text, tag=tag, page=page, per_page=per_page)
    if found.kind == "search":
        return await render_template(
            "notes/search.html",
            notes=found.notes,
            titles=found.titles,
            excerpts=found.excerpts,
            count=found.count,
            count_cap=search.COUNT_CAP,
            q=text,
            tag=tag,
            page=page,
            more=found.more,
        )
    counts = await tags.count_tags(store, author_id=user.id)
    if found.kind == "tagged":
        return await render_template(
            "notes/tagged.html",
            notes=found.notes,
            tags=counts,
            shown=found.shown,
            q=text,
            tag=tag,
            page=page,
            more=found.more,
        )
    return await render_template(
        "notes/list.html",
        notes=found.notes,
        page=found.page,
        pages=found.pages,
        summary=found.summary,
        tags=counts,
    )


@blueprint.route("/new", methods=["GET", "POST"])
@login_required
async def create(user: CurrentUser) -> Any:
    """Write a new note."""
    form = await NoteForm.from_request()
    if request.method == "POST" and form.validate():
        store = current_store()
        async with store.write(alone=True):  # one statement on PostgreSQL
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
    """Change a note's title, content, tags or pin, unless it changed since the form was opened (409)."""
    store = current_store()
    note = await notes.get_note(store, note_id=note_id, author_id=user.id)
    form = await NoteForm.from_request(
        title=note.title,
        content=note.content,
        is_pinned=note.is_pinned,
        tags=tags_text(note.tags),
        version=str(note.version),
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
