"""Request validation for the API: pydantic models check bodies and query strings and document them.

quart-schema's own `validate_request` builds a pydantic TypeAdapter on every call, which cost more
than the rest of a small request; these decorators use each model's prebuilt validator and keep
quart-schema for what it does well, the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from quart import request
from quart_schema import document_querystring, document_request

from ...http.errors import NO_DATA, HTTPError, validation_details

View = TypeVar("View", bound=Callable[..., Awaitable[Any]])
VALIDATION_FAILED = "Validation failed"
GIVE_ONCE = "Give this parameter once."


def _checked(model: type[BaseModel], data: Any) -> BaseModel:
    """`data` as `model`: 400 when it is not a JSON object, 422 naming each bad field."""
    if not isinstance(data, dict):
        raise HTTPError(400, NO_DATA)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise HTTPError(422, VALIDATION_FAILED, details=validation_details(error)) from error


def json_body(model: type[BaseModel]) -> Callable[[View], View]:
    """Pass the route its JSON body, validated, as `data`."""

    def decorator(view: View) -> View:
        @document_request(model)
        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            body = await request.get_json(force=True, silent=True)
            return await view(*args, data=_checked(model, body), **kwargs)

        return wrapper  # type: ignore[return-value]  # the route's signature, minus what this supplies

    return decorator


def query_args(model: type[BaseModel]) -> Callable[[View], View]:
    """Pass the route its query string, validated, as `query`."""

    def decorator(view: View) -> View:
        @document_querystring(model)
        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            repeated = {name: GIVE_ONCE for name in request.args if len(request.args.getlist(name)) > 1}
            if repeated:  # `?q=a&q=b`: which one was meant? Say so rather than pick one.
                raise HTTPError(422, VALIDATION_FAILED, details=repeated)
            return await view(*args, query=_checked(model, request.args.to_dict()), **kwargs)

        return wrapper  # type: ignore[return-value]  # the route's signature, minus what this supplies

    return decorator
