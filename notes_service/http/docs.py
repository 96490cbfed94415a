"""`/docs`: Swagger UI for /openapi.json, served entirely from this app.

quart-schema's own page loads Swagger UI from a CDN: blank on a machine without internet, and a
compromised CDN would run script on the origin of the session cookie. Here the page, its start-up
script (static/docs.js) and Swagger UI's two files all come from this app, so the page gets a CSP
that names no other host and allows no inline script. The files come from the flask-swagger-ui
package (see pyproject.toml for why that one); we serve them ourselves rather than use its blueprint,
which renders an inline script.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from quart import Blueprint, Quart, Response, current_app, render_template, send_from_directory
from werkzeug.exceptions import NotFound

blueprint = Blueprint("docs", __name__)
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})
# Swagger UI sets styles through the DOM (allowed by style-src 'self'); its stylesheet draws icons
# from data: URIs; it fetches /openapi.json and nothing else (validatorUrl is off in docs.js).
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
)


def assets_directory() -> Path:
    """Where the installed flask-swagger-ui keeps Swagger UI's built files (found without importing
    it: its module imports Flask's blueprint machinery we do not use)."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed: run `pip install -e .`")
    directory = Path(next(iter(spec.submodule_search_locations))) / "dist"
    missing = [name for name in ASSETS if not (directory / name).is_file()]
    if missing:
        raise RuntimeError(f"flask-swagger-ui at {directory} lacks {', '.join(missing)}")
    return directory


@blueprint.get("/docs")
async def page() -> Response:
    """Interactive API documentation (Swagger UI) for /openapi.json."""
    response = Response(await render_template("docs.html"))
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response


@blueprint.get("/docs/assets/<name>")
async def asset(name: str) -> Response:
    """One of Swagger UI's files, from the installed package; anything else is a 404."""
    if name not in ASSETS:
        raise NotFound()
    return await send_from_directory(current_app.extensions["docs_assets"], name)


def init_app(app: Quart) -> None:
    """Find Swagger UI's files now, so that a broken install fails at start, not on a visit."""
    app.extensions["docs_assets"] = assets_directory()
    app.register_blueprint(blueprint)
