"""`notes-client` through its `main()`, with a config directory of the test's own: against the real
server (login, new, ls, show, search, edit and its 412), and the fake feed (sync, watch)."""

from __future__ import annotations

import asyncio
import io
import json
import stat
import sys
from pathlib import Path

import httpx
import pytest
from fakes import TOKEN, FakeFeed
from support import Account, new_account
from tests.server import Server

from notes_client import NotesClient, cli, config


@pytest.fixture(autouse=True)
def own_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def account(server: Server) -> Account:
    account = new_account()
    body = {"username": account.username, "email": account.email, "password": account.password}
    assert httpx.post(f"{server.url}/api/users", json=body).status_code == 201
    return account


@pytest.fixture
def logged_in(server: Server, account: Account, monkeypatch: pytest.MonkeyPatch) -> Account:
    monkeypatch.setattr("getpass.getpass", lambda prompt: account.password)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{account.email}\n"))
    assert cli.main(["login", "--url", server.url]) == 0
    return account


def run(*args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(list(args))


def test_login_saves_the_token_for_the_owner_only(
    account: Account,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: account.password)
    assert run("login", "--url", server.url, stdin=f"{account.email}\n", monkeypatch=monkeypatch) == 0
    path = tmp_path / "config" / "notes-client" / "config.json"
    saved = json.loads(path.read_text())
    assert saved["url"] == server.url and saved["token"].startswith("nts_")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert f"as {account.username}" in capsys.readouterr().out


def test_wrong_password(
    account: Account, server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: "wrong password")
    assert cli.main(["login", "--url", server.url, "--email", account.email]) == 1
    assert capsys.readouterr().err.strip() == "notes-client: Invalid credentials"
    assert not config.config_path().exists()


def test_new_ls_show_search(
    logged_in: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run("new", "--title", "Groceries", stdin="eggs\nmilk\n", monkeypatch=monkeypatch) == 0
    assert run("new", "--title", "Pinned", "--pin", stdin="on top", monkeypatch=monkeypatch) == 0
    created = capsys.readouterr().out.splitlines()
    assert created[0].startswith("Created note ") and created[0].endswith(": Groceries")
    groceries = int(created[0].split()[2].rstrip(":"))

    assert run("ls", monkeypatch=monkeypatch) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[-1] for line in lines] == ["Pinned", "Groceries"]
    assert lines[0].split()[1] == "*"  # pinned

    assert run("show", str(groceries), monkeypatch=monkeypatch) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("# Groceries\nnote ") and shown.endswith("\n\neggs\nmilk\n\n")

    assert run("search", "milk", monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out.split("  ")[-1].strip() == "Groceries"
    assert run("show", "999999", monkeypatch=monkeypatch) == 1
    assert capsys.readouterr().err.strip() == "notes-client: Not found"


def test_not_logged_in(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ls"]) == 1
    assert "Not logged in" in capsys.readouterr().err


def test_edit_through_the_editor(
    logged_in: Account,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run("new", "--title", "Draft", stdin="first words", monkeypatch=monkeypatch)
    note_id = int(capsys.readouterr().out.split()[2].rstrip(":"))
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\npath = sys.argv[1]\nopen(path, 'a').write(' and more')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    assert run("edit", str(note_id), monkeypatch=monkeypatch) == 0
    assert "Saved note" in capsys.readouterr().out
    run("show", str(note_id), monkeypatch=monkeypatch)
    assert capsys.readouterr().out.endswith("\n\nfirst words and more\n")


def test_edit_of_a_note_changed_meanwhile_keeps_the_text(
    logged_in: Account, server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run("new", "--title", "Shared", stdin="v1", monkeypatch=monkeypatch)
    note_id = int(capsys.readouterr().out.split()[2].rstrip(":"))

    async def edit_while_someone_else_saves(path: Path) -> None:
        await asyncio.to_thread(path.write_text, "my version")
        async with NotesClient(server.url, config.load().token) as elsewhere:
            await elsewhere.update_note(note_id, content="their version")

    monkeypatch.setattr(cli, "_edit", edit_while_someone_else_saves)
    assert run("edit", str(note_id), monkeypatch=monkeypatch) == 1
    error = capsys.readouterr().err
    assert "was changed elsewhere after you opened it (it is at version 2 now); nothing was saved" in error
    kept = Path(error.rsplit("Your text is in ", 1)[1].strip())
    assert kept.read_text() == "my version"
    kept.unlink()
    run("show", str(note_id), monkeypatch=monkeypatch)
    assert capsys.readouterr().out.endswith("\n\ntheir version\n")


@pytest.fixture
def fake_feed(monkeypatch: pytest.MonkeyPatch) -> FakeFeed:
    """The commands talk to the fake feed (the server has no /api/changes yet)."""
    feed = FakeFeed.sample()
    config.save(config.Config("http://notes.test", TOKEN))

    def make_client(saved: config.Config) -> NotesClient:
        return NotesClient(saved.url, saved.token, transport=feed.client_transport())

    monkeypatch.setattr(cli, "make_client", make_client)
    return feed


def test_sync_into_a_local_copy(
    fake_feed: FakeFeed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "copy.db"
    assert cli.main(["sync", "--db", str(database)]) == 0
    trashed = sum(note.deleted_at is not None for note in fake_feed.expected())
    live = len(fake_feed.expected()) - trashed
    assert capsys.readouterr().out.strip().endswith(f"; {live} notes, {trashed} in the trash.")
    fake_feed.create("one more", "x")
    assert cli.main(["sync", "--db", str(database)]) == 0
    assert "1 changes applied" in capsys.readouterr().out
    assert cli.main(["sync"]) == 0  # the default place, under XDG_DATA_HOME
    assert (tmp_path / "data" / "notes-client" / "notes.db").exists()


def test_watch_prints_events(fake_feed: FakeFeed, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["watch", "--since", fake_feed.cursor(fake_feed.seq - 2), "--count", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[-1].endswith("deleted forever")
