"""The `Idempotency-Key` request header of `POST /api/notes` (SPEC §10): read and checked, the
request's digest, and a kept answer sent again (services/idempotency.py keeps them)."""

from __future__ import annotations

import hashlib
import re

import orjson
from pydantic import BaseModel
from quart import Response, request

from ..services.idempotency import KeptAnswer
from .errors import HTTPError
from .etags import etag

HEADER = "Idempotency-Key"
KEY_RULE = "1 to 200 visible ASCII characters (a UUID, say)"
INVALID_KEY = f"Invalid Idempotency-Key: {KEY_RULE}"
KEY_REUSED = "Idempotency-Key already used for another request"
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def idempotency_key() -> str | None:
    """The request's key; None without one; 400 for one that breaks the rule."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise HTTPError(400, INVALID_KEY, details={HEADER: KEY_RULE})
    return key


def request_digest(body: BaseModel) -> str:
    """SHA-256 of the validated body: a retry sends the same, whatever its spacing or key order."""
    return hashlib.sha256(orjson.dumps(body.model_dump(), option=orjson.OPT_SORT_KEYS)).hexdigest()


def replay(kept: KeptAnswer, digest: str) -> Response:
    """The first answer again (status, body, `Location`, `ETag`), marked `Idempotent-Replayed`; a
    422 when the key came with another request."""
    if kept.request_digest != digest:
        raise HTTPError(422, KEY_REUSED, details={HEADER: KEY_REUSED})
    response = Response(kept.body, status=kept.status, mimetype="application/json")
    note = orjson.loads(kept.body)
    response.headers["ETag"] = etag(note["id"], note["version"])
    if kept.location is not None:
        response.headers["Location"] = kept.location
    response.headers["Idempotent-Replayed"] = "true"
    return response
