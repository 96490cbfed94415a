"""Absolute URLs the service hands out (`Location`, `Link`).

With `NOTES_PUBLIC_URL` set they are built from it alone, so no request's `Host` or
`X-Forwarded-Host` header can choose where they point. Without it (development), they name the
host the request came to.
"""

from __future__ import annotations

from typing import Any

from quart import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` for a response to this request."""
    public_url: str | None = current_app.config["NOTES"].public_url
    if public_url is None:
        return url_for(endpoint, _external=True, **values)
    return public_url + url_for(endpoint, **values)
