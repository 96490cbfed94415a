"""Which requests belong to the JSON API, and which answer JSON: the one place that says so."""

from __future__ import annotations

API_PREFIX = "/api"
# Browser routes (cookie session) that answer JSON, errors included: a stream is not a page.
BROWSER_JSON_PATHS = frozenset({"/events"})
# The browser app's JSON routes (blueprints/app_json.py): cookie session, CSRF token in a header.
APP_PREFIX = "/app"


def is_app_path(path: str) -> bool:
    """True for the browser app's JSON routes: `/app/…` (not `/apple`)."""
    return path.startswith(APP_PREFIX + "/")


def is_api_path(path: str) -> bool:
    """True for `/api` and everything under `/api/` (not for `/apiary`)."""
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def answers_json(path: str) -> bool:
    """Whether errors on this path are JSON `{"error": …}` rather than a page."""
    return is_api_path(path) or path in BROWSER_JSON_PATHS or is_app_path(path)
