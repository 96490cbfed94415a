"""`api_route`: one decorator for an API route, in place of the stack every route used to repeat.

It registers the route and applies, in this order from the outside in (the order the stacked
decorators had, so requests are checked in the same order and the OpenAPI document is the same):

    blueprint.<method>(rule)                    the route
    throttled(throttle, account_field=..., code_field=...)   only with `throttle`
    token_required_with(token)                  unless `token=None`: 401 before anything else
    tag([tag])
    bearer_required                             unless `token=None`
    query_args(query)                           only with `query`
    document_headers(headers)                   only with `headers`
    document_response(*response)                each of `responses`, top to bottom
    errors(*errors)
    json_body(body)                             only with `body`

The route gets its `CurrentUser` first (unless `token=None`), then its validated body or query
string (if any), then its URL values; the overloads below make mypy check that signature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, Concatenate, ParamSpec, Required, TypedDict, TypeVar, Unpack, overload

from pydantic import BaseModel
from quart_schema import document_headers, document_response, tag

from ...http.auth import TokenCheck, find_token, token_required_with
from ...http.throttle import throttled
from ...services.users import CurrentUser
from .responses import bearer_required, errors
from .validation import json_body, query_args

M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")
R = TypeVar("R")
Route = Callable[..., Awaitable[Any]]
# A documented success answer, as `document_response`'s arguments: body model, status, headers model.
Answer = tuple[Any, int] | tuple[Any, int, type[BaseModel]]


class Options(TypedDict, total=False):
    """What every API route says besides its token check, body and query (see `api_route`)."""

    tag: Required[str]
    responses: Required[Sequence[Answer]]
    errors: Required[Collection[int]]
    headers: type[BaseModel]  # the request headers it reads
    throttle: str
    account_field: str  # the body field naming the account a sign-in attempt counts against
    code_field: str  # the body field of a two-factor code, which may pass a spent account budget


@overload
def api_route(
    route: Callable[[Route], Route], *, token: TokenCheck = ..., body: type[M], **options: Unpack[Options]
) -> Callable[[Callable[Concatenate[CurrentUser, M, P], Awaitable[R]]], Callable[P, Awaitable[R]]]: ...


@overload
def api_route(
    route: Callable[[Route], Route], *, token: TokenCheck = ..., query: type[M], **options: Unpack[Options]
) -> Callable[[Callable[Concatenate[CurrentUser, M, P], Awaitable[R]]], Callable[P, Awaitable[R]]]: ...


@overload
def api_route(
    route: Callable[[Route], Route], *, token: TokenCheck = ..., **options: Unpack[Options]
) -> Callable[[Callable[Concatenate[CurrentUser, P], Awaitable[R]]], Callable[P, Awaitable[R]]]: ...


@overload
def api_route(
    route: Callable[[Route], Route], *, token: None, body: type[M], **options: Unpack[Options]
) -> Callable[[Callable[Concatenate[M, P], Awaitable[R]]], Callable[P, Awaitable[R]]]: ...


@overload
def api_route(
    route: Callable[[Route], Route], *, token: None, **options: Unpack[Options]
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]: ...


def api_route(
    route: Callable[[Route], Route],
    *,
    token: TokenCheck | None = find_token,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    **options: Unpack[Options],
) -> Callable[[Route], Route]:
    """Register an API route (`route` is `blueprint.get(rule)` and the like) with its token check
    (`token`, `find_token` unless given; `None`: public), validated JSON `body` or `query` string,
    throttle, and documentation: its tag, request `headers`, success `responses` and error statuses."""

    def decorator(view: Route) -> Route:
        if body is not None:
            view = json_body(body)(view)
        view = errors(*options["errors"])(view)
        for answer in reversed(options["responses"]):
            view = document_response(*answer)(view)
        if "headers" in options:
            view = document_headers(options["headers"])(view)
        if query is not None:
            view = query_args(query)(view)
        if token is not None:
            view = bearer_required(view)
        view = tag([options["tag"]])(view)
        if token is not None:
            view = token_required_with(token)(view)
        if "throttle" in options:
            view = throttled(
                options["throttle"],
                account_field=options.get("account_field"),
                code_field=options.get("code_field"),
            )(view)
        return route(view)

    return decorator
