"""Page cursors: where the next page starts, as an opaque signed token (the API and the trash page).

A cursor is a short list of plain values (a sort key), signed with the secret key under a salt of
its own, so a list cursor is no search's or trash's; anything tampered, malformed or of another kind
is a 400 `Invalid cursor`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from itsdangerous import BadData, URLSafeSerializer
from quart import Response, current_app

from ...http.errors import HTTPError
from ...http.links import external_url

INVALID_CURSOR = "Invalid cursor"
Position = TypeVar("Position")


class Cursors:
    def __init__(self, salt: str) -> None:
        self.salt = salt

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(current_app.config["NOTES"].secret_key, salt=self.salt)

    def encode(self, values: list[Any]) -> str:
        return self._serializer().dumps(values)

    def decode(self, cursor: str, read: Callable[[Any], Position]) -> Position:
        """`read` turns the signed values back into a position; whatever it raises is a 400."""
        try:
            return read(self._serializer().loads(cursor))
        except (BadData, ValueError, TypeError) as error:
            raise HTTPError(400, INVALID_CURSOR, details={"cursor": INVALID_CURSOR}) from error


def link_next(response: Response, endpoint: str, **arguments: Any) -> None:
    """`Link: <…>; rel="next"`, the URL of the following page."""
    response.headers["Link"] = f'<{external_url(endpoint, **arguments)}>; rel="next"'
