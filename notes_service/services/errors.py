"""What a service refuses, in the service's own words; `notes_service.http.errors` maps them to HTTP."""

from __future__ import annotations


class Missing(LookupError):
    """There is no such row (a 404)."""


class InTrash(Missing):
    """The author's own note is in the trash: still a 404 (SPEC §9), but a page can offer to restore it."""


class NotOwner(PermissionError):
    """The row exists but belongs to someone else (a 403)."""


class Conflict(ValueError):
    """Values that must be unique are taken; `fields` maps each field to its message (a 409)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields)
        self.fields = fields


class Stale(Exception):
    """The note changed since the version the writer saw: nothing was written (412 / the 409 form)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(current_version)
        self.current_version = current_version


class CursorExpired(Exception):
    """A feed reader's place is gone: a deletion marker it has not seen was purged (a 410)."""
