"""A User-Agent as a person reads it ("Chrome on Linux") for the sessions table; the raw string is
kept as it was sent. A few well-known patterns, in the order that disambiguates them (Edge and
Opera also say "Chrome", Chrome also says "Safari"); anything else is "Unknown browser"."""

from __future__ import annotations

BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe(user_agent: str | None) -> str:
    """ "Firefox on Windows", "Safari on iOS", "Chrome", or "Unknown browser"."""
    text = user_agent or ""
    browser = next((name for marker, name in BROWSERS if marker in text), None)
    system = next((name for marker, name in SYSTEMS if marker in text), None)
    if browser is None:
        return f"Unknown browser on {system}" if system else "Unknown browser"
    return f"{browser} on {system}" if system else browser
