"""Logs an operator can use: one access line per request and key=value app events.

Nothing secret is ever logged: the access line carries the path without its query string, never
headers or cookies; app events name users and tokens by id only. Whatever a request chose (its path,
a client address from a proxy header) is escaped by `clean`, so that it can neither start a forged
line nor shift the space-separated fields of a real one.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from hypercorn.typing import ASGIFramework

access_log = logging.getLogger("notes_service.access")
CLIENT_CLOSED = 499  # nginx's status for "client closed the request"
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
ACCESS_LINE = "%s %s %s %.1fms client=%s"
# Control characters (C0, DEL, C1), Unicode line and paragraph separators, the space (the field
# separator) and the backslash (so that an escape in the log is always ours) become `\xNN`/`\uNNNN`.
_UNSAFE = [*range(0x21), *range(0x7F, 0xA0), 0x5C, 0x2028, 0x2029]
_ESCAPES = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _UNSAFE}


def configure_logging(level: int = logging.INFO) -> None:
    """Send the service's own loggers to stderr once (hypercorn keeps its own handlers)."""
    logger = logging.getLogger("notes_service")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def clean(value: object) -> str:
    """`value` as one log field: no character in it can end the line or the field."""
    return str(value).translate(_ESCAPES)


def event(logger: logging.Logger, name: str, **fields: Any) -> None:
    """An app event as `event=name key=value ...` (values are ids and outcomes, never secrets)."""
    if logger.isEnabledFor(logging.INFO):
        pairs = " ".join(f"{key}={clean(value)}" for key, value in fields.items())
        logger.info("event=%s %s", clean(name), pairs)


class AccessLog:
    """ASGI middleware: `METHOD /path STATUS DURATIONms client=ADDRESS` once per HTTP request."""

    def __init__(self, app: ASGIFramework) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # No response started by the time the app is done means the client left first: Quart
        # cancels the handler and returns, hypercorn cancels the app; either way nginx says 499.
        status = CLIENT_CLOSED

        async def send_and_record(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except Exception:
            if status == CLIENT_CLOSED:
                status = 500  # the app crashed before answering; hypercorn sends the 500
            raise
        finally:
            client = (scope.get("client") or ("-", 0))[0]
            duration = (time.perf_counter() - started) * 1000
            arguments = (clean(scope["method"]), clean(scope["path"]), status, duration, clean(client))
            # `makeRecord` + `handle` is `info` without `findCaller`, a walk up the stack on every
            # request for a file and line number that the format never shows.
            access_log.handle(
                access_log.makeRecord(
                    access_log.name, logging.INFO, __file__, 0, ACCESS_LINE, arguments, None
                )
            )
