"""A note's ETag and the conditional request headers of RFC 9110 that use it.

The ETag is the note's version, quoted (`"3"`): strong, since a version names exactly one content.
`If-Match` compares strongly (a weak tag never matches) and `If-None-Match` weakly, as the RFC says.
"""

from __future__ import annotations

from quart import request

ANY = None  # "no condition": the header is absent or `*`


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_versions() -> list[int] | None:
    """The versions `If-Match` allows: None when it allows any (absent or `*`); a tag that is not
    one of ours matches no version, so the write is refused with 412."""
    header = request.if_match
    if not header or header.star_tag:
        return ANY
    return [int(tag) for tag in header.as_set() if tag.isascii() and tag.isdigit() and len(tag) < 19]


def not_modified(version: int) -> bool:
    """Whether `If-None-Match` names this version (weakly), or is `*`."""
    header = request.if_none_match
    return bool(header) and (header.star_tag or header.contains_weak(str(version)))
