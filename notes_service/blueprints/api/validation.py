"""Request validation for the API: pydantic models check bodies and query strings and document them.

quart-schema's own `validate_request` builds a pydantic TypeAdapter on every call, which cost more
than the rest of a small request; these decorators use each model's prebuilt validator and keep
quart-schema for what it does well, the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, overload

from pydantic import BaseModel, ValidationError
from quart import request
from quart_schema import document_querystring, document_request

from ...http.errors import NO_DATA, HTTPError, validation_details
from ...services.users import CurrentUser

M = TypeVar("M", bound=BaseModel)
M_co = TypeVar("M_co", bound=BaseModel, covariant=True)
P = ParamSpec("P")
R = TypeVar("R")
Route = Callable[..., Awaitable[Any]]
VALIDATION_FAILED = "Validation failed"
GIVE_ONCE = "Give this parameter once."


class Supplies(Protocol[M_co]):
    """A decorator that passes the route an `M_co` right after its user, or first when it has none.

    Quart passes URL values by name, so the only positional argument a route gets before this one is
    the `CurrentUser` that a sign-in or token check above it passes.
    """

    @overload
    def __call__(
        self, view: Callable[Concatenate[CurrentUser, M_co, P], Awaitable[R]]
    ) -> Callable[Concatenate[CurrentUser, P], Awaitable[R]]: ...

    @overload
    def __call__(self, view: Callable[Concatenate[M_co, P], Awaitable[R]]) -> Callable[P, Awaitable[R]]: ...


def _checked(model: type[M], data: Any) -> M:
    """`data` as `model`: 400 when it is not a JSON object, 422 naming each bad field."""
    if not isinstance(data, dict):
        raise HTTPError(400, NO_DATA)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise HTTPError(422, VALIDATION_FAILED, details=validation_details(error)) from error


def _supplying(read: Callable[[], Awaitable[M]], document: Callable[[Route], Route]) -> Supplies[M]:
    """Read a value for the route (after the user, if any: see `Supplies`) and document where from."""

    def decorator(view: Route) -> Route:
        @document
        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await view(*args, await read(), **kwargs)

        return wrapper

    return decorator


def json_body(model: type[M]) -> Supplies[M]:
    """Pass the route its JSON body, validated (after the user, if any)."""

    async def read() -> M:
        return _checked(model, await request.get_json(force=True, silent=True))

    return _supplying(read, document_request(model))


def query_args(model: type[M]) -> Supplies[M]:
    """Pass the route its query string, validated (after the user, if any)."""

    async def read() -> M:
        repeated = {name: GIVE_ONCE for name in request.args if len(request.args.getlist(name)) > 1}
        if repeated:  # `?q=a&q=b`: which one was meant? Say so rather than pick one.
            raise HTTPError(422, VALIDATION_FAILED, details=repeated)
        return _checked(model, request.args.to_dict())

    return _supplying(read, document_querystring(model))
