"""A note's ETag and the conditional request headers of RFC 9110 that use it.

The ETag names the note and its version, quoted (`"12.3"`): strong, since a version names exactly one
content, and never equal to another note's, so an `If-Match` kept for a note deleted forever can never
apply to a later one. `If-Match` compares strongly (a weak tag never matches) and `If-None-Match`
weakly, as the RFC says. An `If-Match` that names none of our tags — empty, malformed, another note's —
refuses the write (412); only an absent header or `*` allows any version.
"""

from __future__ import annotations

from quart import request
from werkzeug.http import parse_etags

ANY = None  # "no condition": the header is absent or `*`


def etag(note_id: int, version: int) -> str:
    return f'"{note_id}.{version}"'


def if_match_versions(note_id: int) -> list[int] | None:
    """The versions of note `note_id` that `If-Match` allows: None when it allows any (absent or
    `*`), else the versions its strong tags name for this note (none: the write is refused)."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return ANY
    return [version for tag in parse_etags(raw).as_set() if (version := _version_of(tag, note_id))]


def not_modified(note_id: int, version: int) -> bool:
    """Whether `If-None-Match` names this version of this note (weakly), or is `*`."""
    header = request.if_none_match
    return bool(header) and (header.star_tag or header.contains_weak(etag(note_id, version).strip('"')))


def _version_of(tag: str | None, note_id: int) -> int | None:
    """The version a tag of ours names for note `note_id`; None for anything else (werkzeug reads
    `""` as a tag that is None)."""
    named, _, version = (tag or "").partition(".")
    if named != str(note_id) or not (version.isascii() and version.isdigit() and len(version) < 19):
        return None
    return int(version) or None
