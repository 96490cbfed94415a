"""The app's JSON encoder and decoder (orjson); the shapes themselves are in `http/shapes.py`.

Datetimes stay datetimes in the dicts routes return: orjson writes an aware one as ISO 8601 with its offset
(`2026-11-28T05:29:13.633411+00:00`, SPEC §1) by itself, and several times faster than the standard
library writes a page of notes.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel
from quart import Response


class JSONProvider(DefaultJSONProvider):
    """The app's JSON (responses, request bodies, the session cookie), by orjson."""

    def dumps(self, obj: Any, **_options: Any) -> str:
        return _encode(obj).decode()

    def loads(self, s: str | bytes, **_options: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = _encode(self._prepare_response_obj(args, kwargs))
        return Response(body, mimetype=self.mimetype)


def _encode(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj, default=_jsonable)
    except orjson.JSONEncodeError:  # e.g. the OpenAPI document's integer status keys
        return orjson.dumps(obj, default=_jsonable, option=orjson.OPT_NON_STR_KEYS)


def _jsonable(value: Any) -> Any:
    """What orjson cannot write itself: pydantic models (the OpenAPI document has some)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
