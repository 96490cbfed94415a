"""What the notes list shows for a page, a search or a tag (SPEC §9, §11), for both its audiences:
the server's `/notes` pages and the app's `/app/notes` JSON. One place decides which notes, in what
order, and how a search's titles and excerpts are marked, so the app never marks them its own way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..data import Store
from ..render.excerpts import Excerpt, Matcher, excerpt, marked_title
from ..render.markdown import plain_text
from ..services import notes, search, tags
from ..services.notes import Summary
from ..services.rows import NoteRow, SearchHit
from ..services.search_query import parse


@dataclass(frozen=True)
class Found:
    """One page of the list: `kind` says which (all notes, a tag's, a search's)."""

    kind: Literal["list", "tagged", "search"]
    notes: Sequence[NoteRow | SearchHit]
    page: int
    more: bool
    shown: tuple[str, ...] = ()  # the tags kept to
    titles: tuple[Excerpt, ...] = ()  # a search's: each title and excerpt, matches marked
    excerpts: tuple[Excerpt, ...] = ()
    count: int = 0  # a search's matching notes, counted up to search.COUNT_CAP + 1
    pages: int = 1  # the plain list's
    summary: Summary | None = None


async def find_notes(
    store: Store, *, author_id: int, text: str, tag: str | None, page: int, per_page: int
) -> Found:
    """The notes of page `page` for the search `text` kept to `tag`: matches best first with their
    marked excerpts; a tag's notes newest first; else the plain list, pinned first then newest."""
    query = parse(text).with_tag(tag)
    offset = (page - 1) * per_page
    if query.terms:
        found = await search.search_notes(
            store, author_id=author_id, query=query, limit=per_page + 1, offset=offset
        )
        matcher = Matcher(query)
        shown = found[:per_page]
        return Found(
            "search",
            shown,
            page,
            len(found) > per_page,
            titles=tuple(marked_title(note.title, matcher) for note in shown),
            excerpts=tuple(excerpt(plain_text(note.content), matcher) for note in shown),
            count=await search.count_matches(store, author_id=author_id, query=query, cap=search.COUNT_CAP),
        )
    if query.tags or query.nothing:  # a malformed tag matches nothing
        items = (
            []
            if query.nothing
            else await tags.list_tagged(
                store, author_id=author_id, tags=query.tags, limit=per_page + 1, offset=offset
            )
        )
        shown_tags = query.tags or ((tag or text).removeprefix("tag:"),)
        return Found("tagged", items[:per_page], page, len(items) > per_page, shown=tuple(shown_tags))
    summary = await notes.summarize_notes(store, author_id=author_id)
    pages = max((summary.total + per_page - 1) // per_page, 1)
    page = min(page, pages)
    items = await notes.list_notes(store, author_id=author_id, limit=per_page, offset=(page - 1) * per_page)
    return Found("list", items, page, page < pages, pages=pages, summary=summary)
