"""Home, dashboard and the health probes."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, render_template

from ..data import Database, current_store
from ..http.auth import current_user, login_required
from ..services import notes, trash
from ..services.users import CurrentUser

blueprint = Blueprint("main", __name__)
RECENT_NOTES = 5


@blueprint.get("/")
async def index() -> str:
    """The home page; the nav shows who is signed in. Someone with no notes yet (a brand-new
    account, say) is shown how to start rather than welcomed back."""
    user = current_user()
    returning = (
        user is not None and (await notes.summarize_notes(current_store(), author_id=user.id)).total > 0
    )
    return await render_template("index.html", returning=returning)


@blueprint.get("/favicon.ico")
async def favicon() -> Response:
    """The icon browsers and feed readers ask for by this name: the SVG that pages link to."""
    return await current_app.send_static_file("favicon.svg")


@blueprint.get("/dashboard")
@login_required
async def dashboard(user: CurrentUser) -> str:
    """The user's summary: how many notes, how many pinned, how many in the trash, the latest ones."""
    store = current_store()
    summary = await notes.summarize_notes(store, author_id=user.id)
    recent = await notes.list_notes(store, author_id=user.id, limit=RECENT_NOTES)
    in_trash = await trash.count_trash(store, author_id=user.id)
    return await render_template("dashboard.html", summary=summary, recent=recent, in_trash=in_trash)


@blueprint.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is serving."""
    return {"status": "ok"}


@blueprint.get("/readyz")
async def readyz() -> tuple[dict[str, str], int]:
    """The database answers and is migrated; load balancers should only route here when this is 200."""
    database: Database = current_app.extensions["database"]
    if (problem := await database.ready()) is None:
        return {"status": "ready"}, 200
    return {"status": problem}, 503
