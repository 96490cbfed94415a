"""Every API response checked against the model its route documents (`@document_response`).

The output models in `http/schemas.py` are the single source of each JSON shape; this check ties what
is sent to them in every test that calls the API: the status must be documented, and the body must
validate against its model with no field the model does not name.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from quart import Quart, Response, request
from quart_schema.validation import QUART_SCHEMA_RESPONSE_ATTRIBUTE

from notes_service.http.paths import is_api_path
from notes_service.http.schemas import Error, NoContent


def check_api_responses(app: Quart, problems: list[str]) -> None:
    """Append to `problems` every API response that does not match its documented model."""

    @app.after_request
    async def check(response: Response) -> Response:
        if response.mimetype == "text/event-stream":
            return response  # a stream's body is events, never done (tests/live/ reads them)
        if is_api_path(request.path) and request.path != "/api/openapi.json":
            if problem := _problem(app, response.status_code, await response.get_data()):
                problems.append(f"{request.method} {request.path} {response.status_code}: {problem}")
        return response


def _problem(app: Quart, status: int, body: bytes) -> str | None:
    view = app.view_functions.get(request.url_rule.endpoint) if request.url_rule else None
    documented: dict[int, tuple[Any, Any]] = getattr(view, QUART_SCHEMA_RESPONSE_ATTRIBUTE, {})
    if status >= 400 and status not in documented:
        model: Any = Error  # an error the route cannot help (404 route, 405, 500) is still an Error
    elif status not in documented:
        return f"status not documented (documented: {sorted(documented)})"
    else:
        model = documented[status][0]
    if model is NoContent:
        return None if body == b"" else "a documented 204 with a body"
    try:
        TypeAdapter(model).validate_json(body)
        data = orjson.loads(body)
    except (orjson.JSONDecodeError, ValidationError) as error:
        return str(error)
    return _extra_fields(model, data)


def _extra_fields(model: Any, data: Any) -> str | None:
    if get_origin(model) is list:
        (model,) = get_args(model)
        items = data
    else:
        items = [data]
    if isinstance(model, type) and issubclass(model, BaseModel):
        for item in items:
            if extra := set(item) - set(model.model_fields):
                return f"fields not in {model.__name__}: {sorted(extra)}"
    return None
