"""What API routes share about their answers: documented error statuses, empty 204s, a note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from quart import Response, jsonify
from quart_schema import document_response, security_scheme

from ...http.etags import etag
from ...http.schemas import Error
from ...http.shapes import NOTE
from ...services.rows import NoteRow

T = TypeVar("T", bound=Callable[..., Any])
bearer_required = security_scheme([{"bearer": []}])


def errors(*statuses: int) -> Callable[[T], T]:
    """Document that the route can answer these statuses with an `Error` body."""

    def decorator(view: T) -> T:
        for status in statuses:
            view = document_response(Error, status)(view)
        return view

    return decorator


def no_content() -> Response:
    """204 with no body and no Content-Type (there is nothing to describe)."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def note_response(note: NoteRow, status: int = 200, **headers: str) -> Response:
    """A note as JSON, with its `ETag`. A Response rather than a dict: quart-schema would turn a
    returned dict into JSON through a new pydantic TypeAdapter on every request."""
    response = jsonify(NOTE.one(note))
    response.status_code = status
    response.headers.update(ETag=etag(note.id, note.version), **headers)
    return response
