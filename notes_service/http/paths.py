"""Which requests belong to the JSON API: the one place that says so."""

from __future__ import annotations

API_PREFIX = "/api"


def is_api_path(path: str) -> bool:
    """True for `/api` and everything under `/api/` (not for `/apiary`)."""
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")
