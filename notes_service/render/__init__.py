"""What a note looks like on a page: Markdown made safe (markdown), plain-text previews and search
excerpts (excerpts), and browsers named for the sessions table (useragents)."""

from __future__ import annotations

from typing import Any

from .markdown import preview
from .useragents import describe


def init_app(app: Any) -> None:
    """The template filters `preview` (lists) and `browser_name` (the sessions table)."""
    app.add_template_filter(preview, "preview")
    app.add_template_filter(describe, "browser_name")
