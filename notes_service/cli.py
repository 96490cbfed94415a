"""The `notes-service` command: db upgrade, serve, create-user, deactivate-user, reactivate-user,
disable-2fa, mail status, render-notes."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from .config import ConfigError, Settings, load_settings
from .data import Database, Store
from .data.dberrors import describe
from .services import auth_sessions, notes, outbox, tokens, two_factor, users
from .services.errors import Conflict
from .services.security import PasswordHasher

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
P = ParamSpec("P")


def _one_line_errors(command: Callable[P, T]) -> Callable[P, T]:
    """A database problem (data/dberrors.py) ends the command with one line and its fix, exit 1, instead
    of a traceback of a hundred lines; anything else is a bug and keeps its traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as error:
            message = describe(error, _settings().database_url)
            if message is None:
                raise
            raise click.ClickException(message) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """notes-service: an async notes service with real authentication."""


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to reach.")
@_one_line_errors
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations (same as `alembic upgrade head`)."""
    from alembic import command

    command.upgrade(alembic_config(_settings().database_url), revision)
    click.echo(f"database at {revision}")


@main.command()
@click.option("--bind", default=None, help="HOST:PORT to listen on [default: 127.0.0.1:8000].")
@click.option("--workers", type=int, default=None, help="Worker processes [default: 1].")
@click.option(
    "--drain-seconds",
    type=float,
    default=None,
    help="On SIGTERM, how long requests in flight may take to finish [default: hypercorn.toml's 30].",
)
# Another ASGI app under this same server: only for the benchmark's ceiling (bench/servers.py).
@click.option("--app", "application", default=None, hidden=True)
def serve(
    bind: str | None, workers: int | None, drain_seconds: float | None, application: str | None
) -> None:
    """Serve the app with hypercorn, using the repository's hypercorn.toml defaults."""
    from .serving.server import APPLICATION, run

    if application is None:
        _settings()  # fail fast, with a one-line error, on a bad configuration
    sys.exit(
        run(bind=bind, workers=workers, drain_seconds=drain_seconds, application=application or APPLICATION)
    )


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(username: str, email: str, password_stdin: bool) -> None:
    """Create an account (the password is prompted for, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problems = _check_account(username, email, password)
    if problems:
        raise click.ClickException("; ".join(problems))

    async def create(store: Store, hasher: PasswordHasher) -> int:
        password_hash = await hasher.hash(password)
        async with store.write():
            created = await users.create_user(
                store, username=username, email=email, password_hash=password_hash
            )
        return created.user_id

    try:
        user_id = _run(create)
    except Conflict as conflict:
        raise click.ClickException(" ".join(conflict.fields.values())) from conflict
    click.echo(f"created user {username} (id {user_id})")


@main.command("deactivate-user")
@click.argument("email")
def deactivate_user(email: str) -> None:
    """Deactivate an account: its sessions and API tokens stop working at once."""
    _change_account(
        email,
        lambda store: users.set_active(store, email=email, active=False),
        lambda store, user_id: tokens.revoke_all_tokens(store, user_id=user_id),
        done=f"deactivated {email}",
    )


@main.command("reactivate-user")
@click.argument("email")
def reactivate_user(email: str) -> None:
    """Undo deactivate-user: the account can sign in again (no session or token of before comes back)."""
    # A browser that was never back during the deactivation still holds a session row: it ends.
    _change_account(
        email,
        lambda store: users.set_active(store, email=email, active=True),
        _end_sessions,
        done=f"reactivated {email}",
    )


@main.command("disable-2fa")
@click.argument("email")
def disable_2fa(email: str) -> None:
    """Turn two-factor sign-in off for a person who lost both the authenticator and the recovery codes:
    the password alone signs in again. Every browser session of the account ends."""
    _change_account(
        email,
        lambda store: two_factor.turn_off_by_email(store, email=email),
        _end_sessions,
        done=f"two-factor sign-in is off for {email}",
    )


def _change_account(
    email: str,
    change: Callable[[Store], Awaitable[int | None]],
    then: Callable[[Store, int], Awaitable[object]],
    *,
    done: str,
) -> None:
    """`change` the account with this email (it returns the user's id, or None when there is none),
    then `then` on that user, in one write block; one line to say how it went."""

    async def work(store: Store, _hasher: PasswordHasher) -> bool:
        async with store.write():
            user_id = await change(store)
            if user_id is not None:
                await then(store, user_id)
        return user_id is not None

    if not _run(work):
        raise click.ClickException(f"no user with email {email}")
    click.echo(done)


async def _end_sessions(store: Store, user_id: int) -> None:
    await auth_sessions.end_other_auth_sessions(store, user_id=user_id, keep_id=None)


@main.group()
def mail() -> None:
    """The outbox of messages waiting to be sent."""


@mail.command("status")
@click.option("--limit", default=20, show_default=True, help="How many failing messages to list.")
def mail_status(limit: int) -> None:
    """How many messages wait in the outbox, and why the failing ones failed (never their text)."""

    async def status(store: Store, _hasher: PasswordHasher) -> tuple[Any, list[Any]]:
        return await outbox.outbox_status(store, limit=limit)

    totals, failing = _run(status)
    oldest = totals.oldest.isoformat(timespec="seconds") if totals.oldest else "-"
    click.echo(f"queued: {totals.queued}  failing: {totals.failing}  oldest queued: {oldest}")
    for row in failing:
        click.echo(
            f"  #{row.id} {row.subject!r} queued {row.created_at.isoformat(timespec='seconds')} "
            f"attempts {row.attempts} next {row.next_attempt_at.isoformat(timespec='seconds')} "
            f"error: {row.last_error}"
        )


@main.command("render-notes")
@click.option("--batch", default=200, show_default=True, help="Notes rendered per transaction.")
def render_notes(batch: int) -> None:
    """Store the page HTML of every note whose copy is missing or was made by another renderer (run
    it after an upgrade: until then such notes are rendered at every view)."""

    async def work(store: Store, _hasher: PasswordHasher) -> int:
        rendered, after = 0, 0
        while stale := await notes.notes_with_stale_html(store, after=after, limit=batch):
            async with store.write():
                for note in stale:
                    rendered += await notes.refresh_html(store, note)
            after = stale[-1].id
        return rendered

    click.echo(f"notes rendered: {_run(work)}")


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for this checkout, pointed at `database_url`."""
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


@_one_line_errors
def _run(work: Callable[[Store, PasswordHasher], Awaitable[T]]) -> T:
    """Run `work` with a store on the configured database (it opens its own write block)."""
    settings = _settings()

    async def go() -> T:
        database = await Database.open(settings.database_url)
        hasher = PasswordHasher(settings.bcrypt_rounds)
        try:
            return await work(database.store(), hasher)
        finally:
            hasher.close()
            await database.close()

    return asyncio.run(go())


def _check_account(username: str, email: str, password: str) -> list[str]:
    """The API's rules for a new account, as messages."""
    from pydantic import ValidationError

    from .http.schemas import UserCreate

    try:
        UserCreate(username=username, email=email, password=password)
    except ValidationError as error:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
    return []
