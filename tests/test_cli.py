"""The `notes-service` command line."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from notes_service.cli import main
from notes_service.data import Database
from notes_service.data.engine import create_engine
from notes_service.data.models import AuthSession, User
from notes_service.services import totp, two_factor
from notes_service.services.auth_sessions import start_auth_session


@pytest.fixture
def runner(monkeypatch, tmp_path, database_url) -> CliRunner:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOTES_DATABASE_URL", database_url)
    monkeypatch.setenv("NOTES_BCRYPT_ROUNDS", "4")
    monkeypatch.delenv("NOTES_ENV", raising=False)
    return CliRunner()


def users(url: str) -> list[User]:
    async def fetch() -> list[User]:
        engine = create_engine(url)
        async with engine.connect() as connection:
            rows = (await connection.execute(select(User))).all()
        await engine.dispose()
        return rows  # type: ignore[return-value]

    return asyncio.run(fetch())


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["db", "upgrade"],
        ["serve"],
        ["create-user"],
        ["deactivate-user"],
        ["reactivate-user"],
        ["disable-2fa"],
        ["mail", "status"],
        ["render-notes"],
    ],
)
def test_every_command_has_help(runner, args) -> None:
    result = runner.invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_db_upgrade(runner) -> None:
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_create_and_deactivate_user(runner, database_url) -> None:
    result = runner.invoke(
        main,
        ["create-user", "--username", "root", "--email", "Root@Example.com", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    [user] = users(database_url)
    assert (user.username, user.email, user.is_active) == ("root", "root@example.com", True)
    assert "a long enough password" not in user.password_hash

    result = runner.invoke(main, ["deactivate-user", "root@example.com"])
    assert result.exit_code == 0, result.output
    assert users(database_url)[0].is_active is False


def test_create_user_refuses_bad_input_and_duplicates(runner, database_url) -> None:
    args = ["create-user", "--username", "root", "--email", "root@example.com", "--password-stdin"]
    result = runner.invoke(main, args, input="short\n")
    assert result.exit_code == 1 and "password" in result.output
    assert runner.invoke(main, args, input="long enough pw\n").exit_code == 0
    result = runner.invoke(main, args, input="long enough pw\n")
    assert result.exit_code == 1 and "Username already taken." in result.output
    assert len(users(database_url)) == 1


@pytest.mark.parametrize("command", ["deactivate-user", "reactivate-user", "disable-2fa"])
def test_deactivate_or_reactivate_unknown_user_fails(runner, command) -> None:
    result = runner.invoke(main, [command, "nobody@example.com"])
    assert result.exit_code == 1 and "no user with email" in result.output


def sessions_of(url: str) -> int:
    async def count() -> int:
        engine = create_engine(url)
        async with engine.connect() as connection:
            number = await connection.scalar(select(func.count()).select_from(AuthSession))
        await engine.dispose()
        return int(number or 0)

    return asyncio.run(count())


def test_reactivate_user_undoes_deactivate_without_reviving_old_sessions(runner, database_url) -> None:
    args = ["create-user", "--username", "root", "--email", "root@example.com", "--password-stdin"]
    assert runner.invoke(main, args, input="a long enough password\n").exit_code == 0

    user_id = users(database_url)[0].id

    async def sign_in_somewhere() -> None:
        database = await Database.open(database_url)
        store = database.store()
        async with store.write():
            await start_auth_session(
                store, user_id=user_id, remember=True, user_agent="old laptop", security_stamp=0
            )
        await database.close()

    asyncio.run(sign_in_somewhere())
    assert runner.invoke(main, ["deactivate-user", "root@example.com"]).exit_code == 0
    assert users(database_url)[0].is_active is False and sessions_of(database_url) == 1

    result = runner.invoke(main, ["reactivate-user", "Root@Example.com"])
    assert result.exit_code == 0 and "reactivated" in result.output, result.output
    assert users(database_url)[0].is_active is True
    assert sessions_of(database_url) == 0


def test_production_without_secret_fails_with_one_line(runner, monkeypatch) -> None:
    monkeypatch.setenv("NOTES_ENV", "production")
    monkeypatch.delenv("NOTES_SECRET_KEY", raising=False)
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: NOTES_SECRET_KEY must be set when NOTES_ENV=production"


def _bad_databases(tmp_path) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """name -> (NOTES_DATABASE_URL, what the one line must say)."""
    from tests.server import free_port

    return {
        "unmigrated": (f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", "run `notes-service db upgrade`"),
        "unparsable": ("not a url at all", "NOTES_DATABASE_URL is not a database URL"),
        "no driver": ("postgresql+nodriver://u@127.0.0.1/db", "driver that is not installed"),
        "wrong port": (
            f"postgresql+asyncpg://postgres:{SECRET_PASSWORD}@127.0.0.1:{free_port()}/nope",
            "cannot connect to 127.0.0.1:",
        ),
    }


SECRET_PASSWORD = "pw-in-the-url-1234"
BAD_DATABASES = ["unmigrated", "unparsable", "no driver", "wrong port"]


@pytest.mark.parametrize("case", BAD_DATABASES)
@pytest.mark.parametrize(
    "args",
    [
        ["create-user", "--username", "root", "--email", "root@example.com", "--password-stdin"],
        ["deactivate-user", "root@example.com"],
    ],
)
def test_database_problems_are_one_line_with_the_fix(runner, monkeypatch, tmp_path, case, args) -> None:
    url, says = _bad_databases(tmp_path)[case]
    monkeypatch.setenv("NOTES_DATABASE_URL", url)
    result = runner.invoke(main, args, input="a long enough password\n")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    assert says in result.output and SECRET_PASSWORD not in result.output


@pytest.mark.parametrize("case", ["unparsable", "no driver", "wrong port"])
def test_db_upgrade_problems_are_one_line_with_the_fix(runner, monkeypatch, tmp_path, case) -> None:
    url, says = _bad_databases(tmp_path)[case]
    monkeypatch.setenv("NOTES_DATABASE_URL", url)
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and says in result.output, result.output
    assert SECRET_PASSWORD not in result.output


def test_disable_2fa_lets_the_password_alone_sign_in_again(runner, database_url) -> None:
    args = ["create-user", "--username", "root", "--email", "root@example.com", "--password-stdin"]
    assert runner.invoke(main, args, input="a long enough password\n").exit_code == 0
    user_id = users(database_url)[0].id

    async def turn_on_and_sign_in() -> None:
        database = await Database.open(database_url)
        store = database.store()
        box = totp.SecretBox("any key at all, long enough for the test")
        async with store.write():
            await two_factor.turn_on(
                store, box, user_id=user_id, secret=totp.new_secret(), step=1, codes=totp.new_recovery_codes()
            )
            await start_auth_session(
                store, user_id=user_id, remember=True, user_agent="old laptop", security_stamp=0
            )
        await database.close()

    asyncio.run(turn_on_and_sign_in())
    assert users(database_url)[0].two_factor is True
    result = runner.invoke(main, ["disable-2fa", "Root@Example.com"])
    assert result.exit_code == 0 and "two-factor sign-in is off" in result.output, result.output
    [user] = users(database_url)
    assert (user.two_factor, user.totp_secret, user.totp_last_step) == (False, None, None)
    assert sessions_of(database_url) == 0


def test_mail_status_counts_queued_and_failing_messages_without_their_text(runner, database_url) -> None:
    from datetime import timedelta

    from notes_service.data import utcnow
    from notes_service.services import outbox

    async def queue() -> None:
        database = await Database.open(database_url)
        store = database.store()
        async with store.write():
            for number in range(3):
                await outbox.queue_message(
                    store,
                    user_id=None,
                    recipient=f"r{number}@example.com",
                    subject="Reset your password",
                    body="secret link https://notes.example.com/password/reset?token=SECRET",
                )
            await outbox.retry_later(
                store, message_id=2, at=utcnow() + timedelta(minutes=5), error="SMTPConnectError: refused"
            )
        await database.close()

    assert "queued: 0  failing: 0" in runner.invoke(main, ["mail", "status"]).output
    asyncio.run(queue())
    result = runner.invoke(main, ["mail", "status"])
    assert result.exit_code == 0, result.output
    assert "queued: 3  failing: 1" in result.output
    assert "#2 'Reset your password'" in result.output and "SMTPConnectError: refused" in result.output
    assert "SECRET" not in result.output and "r1@example.com" not in result.output


def test_render_notes_stores_current_html_without_editing_the_notes(runner, database_url) -> None:
    from sqlalchemy import update

    from notes_service.data.models import Note
    from notes_service.render.markdown import RENDERER
    from notes_service.services import notes
    from notes_service.services import users as accounts

    async def write(stale: dict[str, str | None]) -> None:
        database = await Database.open(database_url)
        store = database.store()
        async with store.write():
            user = await accounts.create_user(
                store, username="alice", email="a@example.com", password_hash="x"
            )
            for number in range(5):
                note = await notes.create_note(
                    store, author_id=user.user_id, title=f"n{number}", content=f"*{number}*"
                )
                if number < 3:  # two current, three stale
                    await store.execute(update(Note).where(Note.id == note.id).values(**stale))
        await database.close()

    async def notes_now() -> list[tuple[str | None, str | None, int, object]]:
        engine = create_engine(database_url)
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Note.content_html, Note.html_renderer, Note.version, Note.updated_at).order_by(Note.id)
            )
            found = [tuple(row) for row in rows]
        await engine.dispose()
        return found  # type: ignore[return-value]

    asyncio.run(write({"content_html": None, "html_renderer": None}))
    before = asyncio.run(notes_now())
    result = runner.invoke(main, ["render-notes", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "notes rendered: 3" in result.output
    after = asyncio.run(notes_now())
    assert [row[:2] for row in after] == [(f"<p><em>{n}</em></p>\n", RENDERER) for n in range(5)]
    assert [row[2:] for row in after] == [row[2:] for row in before]  # same version, same edited time
    assert "notes rendered: 0" in runner.invoke(main, ["render-notes"]).output
