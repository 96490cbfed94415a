"""Home, dashboard and the health probes."""

from __future__ import annotations

from quart import Blueprint, render_template

from ..auth import login_required
from ..db import ping
from ..reader import get_reader
from ..services import notes
from ..services.sessions import SignedIn

blueprint = Blueprint("main", __name__)
RECENT_NOTES = 5


@blueprint.get("/")
async def index() -> str:
    """The home page; the nav shows who is signed in."""
    return await render_template("index.html")


@blueprint.get("/dashboard")
@login_required
async def dashboard(user: SignedIn) -> str:
    """The user's summary: how many notes, how many pinned, the latest ones."""
    reader = get_reader()
    summary = await notes.summarize_notes(reader, author_id=user.id)
    recent = await notes.list_notes(reader, author_id=user.id, limit=RECENT_NOTES)
    return await render_template("dashboard.html", summary=summary, recent=recent)


@blueprint.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is serving."""
    return {"status": "ok"}


@blueprint.get("/readyz")
async def readyz() -> tuple[dict[str, str], int]:
    """The database answers and is migrated; load balancers should only route here when this is 200."""
    problem = await ping()
    if problem is None:
        return {"status": "ready"}, 200
    return {"status": problem}, 503
