"""`notes-client`: notes from the command line.

    notes-client login [--url URL] [--email E]   # asks what it needs; saves the token (config.py)
    notes-client ls | search Q | show ID
    notes-client new --title T [--pin] [--tag X]  # the text from stdin, else from $EDITOR
    notes-client edit ID [--title T]              # in $EDITOR; saved with If-Match
    notes-client sync [--db PATH] | watch         # the local mirror; the live stream
    notes-client logout

An error the server answers is one line on stderr and exit status 1; a note changed elsewhere while
it was being edited is not saved, and the edited text is kept in a file whose name is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from . import config
from .client import NotesClient
from .errors import NotesClientError, PreconditionFailed, Unauthorized
from .mirror import Mirror
from .models import Change, Note

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


class Failure(Exception):
    """Ends the command with this message on stderr and exit status 1."""


def make_client(settings: config.Config) -> NotesClient:
    """The client the commands use (tests replace this to point it at a fake server)."""
    return NotesClient(settings.url, settings.token)


def logged_in() -> NotesClient:
    settings = config.load()
    if settings.token is None:
        raise Failure("Not logged in: run `notes-client login` first.")
    return make_client(settings)


async def login(args: argparse.Namespace) -> int:
    saved = config.load()
    url = (args.url or saved.url).rstrip("/")
    email = args.email or (await asyncio.to_thread(input, "Email: ")).strip()
    password = await asyncio.to_thread(getpass.getpass, "Password: ")
    async with make_client(config.Config(url)) as client:
        token = await client.login(email, password, name=args.name)
        user = await client.me()
    path = config.save(config.Config(url, token.token))
    print(f"Logged in to {url} as {user.username}; the token is saved in {path}.")
    return 0


async def logout(_args: argparse.Namespace) -> int:
    async with logged_in() as client:
        await client.revoke_current_token()
    config.save(config.Config(config.load().url))
    print("Logged out: the token is revoked.")
    return 0


async def list_notes(args: argparse.Namespace) -> int:
    async with logged_in() as client:
        async for note in client.list_notes(q=args.query, tag=args.tag).items():
            print(_line(note))
    return 0


async def show(args: argparse.Namespace) -> int:
    async with logged_in() as client:
        note = await client.get_note(args.id)
    facts = [f"note {note.id}", f"version {note.version}", f"updated {note.updated_at:%Y-%m-%d %H:%M}"]
    facts += ["pinned"] if note.is_pinned else []
    facts += [f"tags: {', '.join(note.tags)}"] if note.tags else []
    print(f"# {note.title}\n{' · '.join(facts)}\n\n{note.content}")
    return 0


async def new(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        path = _scratch("new-note-", "")
        await _edit(path)
        content = path.read_text()
        path.unlink()
    else:
        content = sys.stdin.read()
    if not content.strip():
        raise Failure("Nothing to save: the note is empty.")
    async with logged_in() as client:
        note = await client.create_note(title=args.title, content=content, is_pinned=args.pin, tags=args.tag)
    print(f"Created note {note.id}: {note.title}")
    return 0


async def edit(args: argparse.Namespace) -> int:
    async with logged_in() as client:
        note = await client.get_note(args.id)
        path = _scratch(f"note-{note.id}-", note.content)
        await _edit(path)
        content = path.read_text()
        if content == note.content and args.title in (None, note.title):
            path.unlink()
            print("No changes.")
            return 0
        try:
            saved = await client.update_note(note, title=args.title, content=content)
        except PreconditionFailed as failed:
            now = f" (it is at version {failed.current.version} now)" if failed.current else ""
            raise Failure(
                f"Note {note.id} was changed elsewhere after you opened it{now}; nothing was saved. "
                f"Your text is in {path}"
            ) from failed
    path.unlink()
    print(f"Saved note {saved.id} (version {saved.version}).")
    return 0


async def sync(args: argparse.Namespace) -> int:
    database = Path(args.db) if args.db else config.default_database()
    database.parent.mkdir(parents=True, exist_ok=True)
    async with logged_in() as client, Mirror(client, database) as mirror:
        applied = await mirror.sync()
        notes, trashed = len(await mirror.notes()), len(await mirror.notes(trashed=True))
    print(f"Synced {database}: {applied} changes applied; {notes} notes, {trashed} in the trash.")
    return 0


async def watch(args: argparse.Namespace) -> int:
    seen = 0
    async with logged_in() as client:
        async for event in client.events(args.since):
            change = event.change
            print(_line(change.note) if isinstance(change, Change) else f"{change.id:>6}  deleted forever")
            sys.stdout.flush()
            seen += 1
            if args.count is not None and seen >= args.count:
                break
    return 0


def _line(note: Note) -> str:
    marks = ("*" if note.is_pinned else " ") + ("T" if note.deleted_at else " ")
    tags = f"  [{', '.join(note.tags)}]" if note.tags else ""
    return f"{note.id:>6} {marks} {note.updated_at:%Y-%m-%d %H:%M}  {note.title}{tags}"


def _scratch(prefix: str, text: str) -> Path:
    """A file of one's own (0600) for the editor; it is kept when the text could not be saved."""
    descriptor, name = tempfile.mkstemp(prefix=prefix, suffix=".md")
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    return Path(name)


async def _edit(path: Path) -> None:
    editor = os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
    done = await asyncio.to_thread(subprocess.run, [*shlex.split(editor), str(path)], check=False)
    if done.returncode != 0:
        raise Failure(f"{editor} exited with status {done.returncode}; nothing was saved ({path}).")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="notes-client", description="Notes from the command line.")
    commands = top.add_subparsers(dest="command", required=True)

    def command(name: str, run: Command, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    sub = command("login", login, "Sign in and save a new API token.")
    sub.add_argument(
        "--url", help=f"the service's address (default: the saved one, else {config.DEFAULT_URL})"
    )
    sub.add_argument("--email")
    sub.add_argument("--name", default="notes-client", help="the token's name, shown in Settings")
    command("logout", logout, "Revoke the saved token.")
    sub = command("ls", list_notes, "List the notes: pinned first, then newest.")
    sub.add_argument("--tag")
    sub.set_defaults(query=None)
    sub = command("search", list_notes, "The notes that hold every word of QUERY, best first.")
    sub.add_argument("query")
    sub.add_argument("--tag")
    sub = command("show", show, "Print one note.")
    sub.add_argument("id", type=int)
    sub = command("new", new, "Write a note: the text from stdin, else from $EDITOR.")
    sub.add_argument("--title", required=True)
    sub.add_argument("--pin", action="store_true")
    sub.add_argument("--tag", action="append", help="a tag (repeat for more)")
    sub = command("edit", edit, "Edit a note's text in $EDITOR.")
    sub.add_argument("id", type=int)
    sub.add_argument("--title", help="a new title too")
    sub = command("sync", sync, "Bring the local copy of the notes up to date.")
    sub.add_argument("--db", help=f"its SQLite file (default {config.default_database()})")
    sub = command("watch", watch, "Print each change of the notes as it happens.")
    sub.add_argument("--since", help="a feed cursor: start with the changes after it")
    sub.add_argument("--count", type=int, help="stop after this many events")
    return top


def main(argv: list[str] | None = None) -> int:
    """The console script; the exit status."""
    args = parser().parse_args(argv)
    try:
        run: Command = args.run
        return asyncio.run(run(args))
    except Unauthorized as error:
        again = "" if args.command == "login" else " (run `notes-client login`)"
        print(f"notes-client: {error}{again}", file=sys.stderr)
    except (NotesClientError, Failure) as error:
        print(f"notes-client: {error}", file=sys.stderr)
    except httpx.HTTPError as error:
        print(f"notes-client: {config.load().url} did not answer: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1
