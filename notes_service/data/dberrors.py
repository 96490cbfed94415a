"""The database problems an operator meets, each said in one line with its fix.

A URL SQLAlchemy cannot read, a driver that is not installed, a server that does not answer, a
database that was never created or never migrated: the command line, `serve`'s supervisor and
/readyz name these instead of showing a traceback. The URL's password never appears in a message.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

UPGRADE = "run `notes-service db upgrade`"
EXAMPLES = "e.g. sqlite+aiosqlite:///instance/notes.db or postgresql+asyncpg://user@host/db"
DEFAULT_PORTS = {"postgresql": 5432}
# Missing tables or columns: SQLite's messages, then asyncpg's exception names.
SCHEMA_MESSAGES = ("no such table", "no such column")
SCHEMA_ERRORS = {"UndefinedTableError", "UndefinedColumnError"}
CONNECT_ERRORS = {"InvalidPasswordError", "InvalidAuthorizationSpecificationError", "CannotConnectNowError"}


# The database is there but takes no more work now: it has no connection to give (its limit, our
# pool's wait), it is starting or stopping, or it dropped the connection. A 503 to try again, not a 500.
BUSY_ERRORS = {
    "TooManyConnectionsError",
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "AdminShutdownError",
    "ConnectionRefusedError",
}


def database_busy(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database cannot take this request now (BUSY_ERRORS,
    SQLAlchemy's pool timing out)."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return any(
        type(cause).__name__ in BUSY_ERRORS or isinstance(cause, PoolTimeout) for cause in _causes(error)
    )


def missing_schema(error: BaseException) -> bool:
    """Whether the database answered but lacks our tables or columns (not migrated, or not fully)."""
    return any(
        type(cause).__name__ in SCHEMA_ERRORS or any(text in str(cause) for text in SCHEMA_MESSAGES)
        for cause in _causes(error)
    )


def describe(error: BaseException, database_url: str) -> str | None:
    """One line naming the problem and its fix, or None when `error` is not a database problem."""
    url = _parse(database_url)
    return _redact(_describe(error, url), url)


def describe_any(error: BaseException, database_url: str) -> str | None:
    """`describe` of the error or of the first of its causes that is a database problem."""
    for cause in _causes(error):
        if (message := describe(cause, database_url)) is not None:
            return message
    return None


def one_line(error: BaseException, database_url: str) -> str:
    """`describe` of the error or of what caused it (hypercorn wraps a failed start-up), else the
    innermost error's type and first line: a worker's last words."""
    if (message := describe_any(error, database_url)) is not None:
        return message
    causes = list(_causes(error))
    line = f"{type(causes[-1]).__name__}: {_first_line(causes[-1])}"
    return _redact(line, _parse(database_url)) or line


def _describe(error: BaseException, url: URL | None) -> str | None:
    if url is None:
        if isinstance(error, ArgumentError):
            return f"NOTES_DATABASE_URL is not a database URL SQLAlchemy can read; {EXAMPLES}"
        return None
    if isinstance(error, NoSuchModuleError):
        return f"NOTES_DATABASE_URL names a driver that is not installed ({url.drivername}); {EXAMPLES}"
    if missing_schema(error):
        return f"the database at {_where(url)} is not migrated ({_first_line(error)}): {UPGRADE}"
    names = {type(cause).__name__ for cause in _causes(error)}
    if "InvalidCatalogNameError" in names:
        return f"database {url.database!r} does not exist on {_where(url)}: create it, then {UPGRADE}"
    if isinstance(error, OSError) or names & CONNECT_ERRORS or "unable to open database file" in str(error):
        verb = "cannot open" if url.get_backend_name() == "sqlite" else "cannot connect to"
        return f"{verb} {_where(url)}: {_first_line(error)}"
    if isinstance(error, DBAPIError):
        return f"database error at {_where(url)}: {_first_line(error)}"
    return None


def _redact(message: str | None, url: URL | None) -> str | None:
    if message is not None and url is not None and url.password:
        message = message.replace(url.password, "***")
    return message


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__


def _first_line(error: BaseException) -> str:
    """The driver's own words: SQLAlchemy's wrapper adds the SQL and a link after them."""
    original = error.orig if isinstance(error, DBAPIError) else error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database or ':memory:'}"
    host = url.host or "localhost"
    port = url.port or DEFAULT_PORTS.get(url.get_backend_name())
    return f"{host}:{port}" if port else host


def _parse(database_url: str) -> URL | None:
    try:
        return make_url(database_url)
    except ArgumentError:
        return None
