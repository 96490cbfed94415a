"""The benchmark's data set, and writers that put it into each server's own schema.

One `Dataset` describes everyone: the measured `reader` (20 notes), ten `others` with 1,000 notes each
(so that "this user's notes" must be found among many), a `writer` with none (the target of POST and
login scenarios, so those never change what the readers read) and, for the depth and search scenarios
(the service's SQLite database only), a `deep` user with 100,000 notes among a `crowd` of ten more
users with 100,000 notes each. The rows are generated once as plain Python values and then written
straight into the database: through sqlite3 or asyncpg COPY into the service's migrated schema (API
tokens stored as SHA-256 digests, as the service does; on SQLite the migration's triggers fill the
FTS5 index as the rows go in), or into the original's schema (plaintext tokens). Going through the
HTTP API would take hours for 1.1 million notes and measure nothing we report. The FastAPI baseline
has the service's tables and gets the service's rows (without the `deep` users and their crowd).

Every note's content differs: sentences picked by the note's number from a fixed list, and in one
note of every `SEARCH_EVERY` (100), for every user alike, the `SEARCH_WORD`, which appears nowhere
else; no other word starts with `SEARCH_PREFIX`.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from passlib.context import CryptContext
from werkzeug.security import generate_password_hash

from notes_service.render.markdown import stored_html
from notes_service.services.totp import new_secret, secret_box, user_context

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
READER_NOTES = 20
OTHER_USERS = 10
OTHER_NOTES = 1_000
DEEP_NOTES = 100_000
CROWD_USERS = 10
CROWD_NOTES = 100_000
SEARCH_WORD = "quokka"
SEARCH_PREFIX = "quok"  # `quok*` finds the same notes as `quokka`, through FTS5's prefix path
SEARCH_EVERY = 100  # one note in 100 holds SEARCH_WORD: 1 % of each user's notes
# Each TOTP step is accepted once per user: at the ideal 8 sign-ins/s (2 cores ÷ ~0.25 s hash) for
# a whole 30 s step, 240 users never run out (bench/two_factor.py waits for the next step if they do).
TWO_FACTOR_USERS = 240
MAIL_USERS = 400  # messages per mail round: one password reset for each
MARKDOWN_NOTE = Path(__file__).with_name("note.md").read_text()
MARKDOWN_TITLE = "Markdown page"
PLAIN_TITLE = "Plain page"
SENTENCES = (
    "Call the plumber about the kitchen sink before Friday.",
    "Buy milk, bread, apples and coffee on the way home.",
    "The meeting moved to Tuesday afternoon in the small room.",
    "Read the chapter on indexes and write down three questions.",
    "Remember the library books are due back next week.",
    "Ideas for the garden: tomatoes, beans, a bench under the tree.",
    "Ask Sam for the slides from the spring planning session.",
    "Train leaves at seven fifteen; platform four, coach B.",
    "Draft the reply to the landlord about the heating.",
    "Renew the passport before the summer holiday.",
    "Recipe: lentil soup with cumin, lemon and fresh parsley.",
    "Backup the laptop and check the old photos folder.",
    "Gift ideas: a scarf, a board game, concert tickets.",
)


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    token: str
    notes: int
    totp_secret: str | None = None  # base32, for a user with two-factor sign-in


@dataclass(frozen=True)
class Dataset:
    password: str
    reader: Account
    writer: Account
    others: tuple[Account, ...]
    deep: Account
    crowd: tuple[Account, ...]  # beside `deep`: the search must find its notes among a million
    pages: Account  # the Markdown note and the plain one (page_notes)
    two_factor: tuple[Account, ...]
    mail: tuple[Account, ...]

    def accounts(self, *, deep: bool) -> list[Account]:
        return [self.reader, self.writer, *self.others, *([self.deep, *self.crowd] if deep else [])]

    def feature_accounts(self) -> list[Account]:
        return [self.pages, *self.two_factor, *self.mail]


def make_dataset() -> Dataset:
    """Fresh accounts with random API token secrets (the service's `nts_` format)."""
    names = itertools.count(1)

    def account(role: str, notes: int, totp_secret: str | None = None) -> Account:
        number = next(names)
        username = f"{role}{number}"
        token = "nts_" + secrets.token_urlsafe(32)
        return Account(number, username, f"{username}@bench.example", token, notes, totp_secret)

    return Dataset(
        password=secrets.token_urlsafe(12),
        reader=account("reader", READER_NOTES),
        writer=account("writer", 0),
        others=tuple(account("other", OTHER_NOTES) for _ in range(OTHER_USERS)),
        deep=account("deep", DEEP_NOTES),
        crowd=tuple(account("crowd", CROWD_NOTES) for _ in range(CROWD_USERS)),
        pages=account("pages", 2),
        two_factor=tuple(account("twofactor", 0, new_secret()) for _ in range(TWO_FACTOR_USERS)),
        mail=tuple(account("mail", 0) for _ in range(MAIL_USERS)),
    )


def bcrypt_sha256(rounds: int) -> CryptContext:
    """The service's password scheme (passlib bcrypt_sha256) at `rounds`."""
    return CryptContext(schemes=["bcrypt_sha256"], bcrypt_sha256__rounds=rounds)


# Rows of one table: its column names and the values in that order.
Table = tuple[list[str], list[tuple[object, ...]]]


def content(index: int) -> str:
    """The text of a user's note number `index`: two sentences, the search word in 1 %, a number."""
    first = SENTENCES[index % len(SENTENCES)]
    second = SENTENCES[(index * 7 + 3) % len(SENTENCES)]
    found = f" Saw a {SEARCH_WORD} at the zoo." if index % SEARCH_EVERY == SEARCH_EVERY // 2 else ""
    return f"{first}{found} {second} Item {index}."


def notes_table(accounts: list[Account]) -> Table:
    """Each account's notes, newest first a second apart; every tenth is pinned. Same in both schemas."""
    columns = ["title", "content", "is_pinned", "author_id", "created_at", "updated_at"]
    rows: list[tuple[object, ...]] = []
    for account in accounts:
        for index in range(account.notes):
            created = EPOCH - timedelta(seconds=index, microseconds=account.id)
            rows.append(
                (
                    f"Note {index} of {account.username}",
                    content(index),
                    index % 10 == 3,
                    account.id,
                    created,
                    created,
                )
            )
    return columns, rows


def plain_text(length: int) -> str:
    """`length` characters of sentences in paragraphs: text without any Markdown syntax."""
    text, index = "", 0
    while len(text) < length:
        text += SENTENCES[index % len(SENTENCES)] + ("\n\n" if index % 4 == 3 else " ")
        index += 1
    return text[:length]


def page_notes(account: Account) -> list[tuple[object, ...]]:
    """The `pages` user's two notes, in notes_table's columns: Markdown, and plain text as long."""
    created = EPOCH - timedelta(microseconds=account.id)
    return [
        (title, text, False, account.id, created, created)
        for title, text in (
            (MARKDOWN_TITLE, MARKDOWN_NOTE),
            (PLAIN_TITLE, plain_text(len(MARKDOWN_NOTE))),
        )
    ]


def _with_page_notes(notes: Table, pages: Account) -> Table:
    """`notes` plus the `pages` user's two, whose page HTML is stored as the service stores a note's
    when it is written (`render.stored_html`); the other notes are never shown as a page here."""
    columns, rows = notes
    shown = [(*row, *stored_html(str(row[1])).values()) for row in page_notes(pages)]
    return [*columns, "content_html", "html_renderer"], [*((*row, None, None) for row in rows), *shown]


def sqlite_value(value: object) -> object:
    """SQLAlchemy's SQLite storage format: naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff', booleans as 0/1."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def _service_tables(
    dataset: Dataset, password_hash: str, *, deep: bool, secret_key: str | None = None
) -> dict[str, Table]:
    """The service's users, notes and api_tokens (only the SHA-256 digest of each token is stored);
    with `secret_key` (the service's), the feature users too, TOTP secrets sealed under that key."""
    accounts = dataset.accounts(deep=deep)
    notes = notes_table(accounts)
    if secret_key is not None:
        accounts += dataset.feature_accounts()
        notes = _with_page_notes(notes, dataset.pages)
    users = ["id", "username", "username_key", "email", "password_hash", "is_active", "created_at"]
    tokens = ["user_id", "name", "token_digest", "created_at", "last_used_at", "expires_at"]
    rows = [(a.id, a.username, a.username.lower(), a.email, password_hash, True, EPOCH) for a in accounts]
    if secret_key is not None:  # the service's own database: it has two-factor users (the baselines do not)
        users.append("totp_secret")
        rows = [(*row, _sealed(a, secret_key)) for row, a in zip(rows, accounts, strict=True)]
    return {
        "users": (users, rows),
        "notes": notes,
        "api_tokens": (tokens, [(a.id, "bench", _digest(a.token), EPOCH, None, None) for a in accounts]),
    }


def _sealed(account: Account, secret_key: str) -> str | None:
    """The account's TOTP secret as the service stores it: AES-GCM under a key from its secret key."""
    if account.totp_secret is None:
        return None
    return secret_box(secret_key).seal(account.totp_secret, context=user_context(account.id))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _sqlite_insert(path: Path, tables: dict[str, Table]) -> None:
    connection = sqlite3.connect(path)
    try:
        with connection:  # one transaction
            for table, (columns, rows) in tables.items():
                marks = ", ".join("?" for _ in columns)
                connection.executemany(
                    f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})',
                    ([sqlite_value(value) for value in row] for row in rows),
                )
    finally:
        connection.close()


def service_sqlite(
    path: Path, dataset: Dataset, password_hash: str, *, deep: bool, secret_key: str | None = None
) -> None:
    """Fill the service's migrated SQLite database (with `secret_key`, the feature users too)."""
    _sqlite_insert(path, _service_tables(dataset, password_hash, deep=deep, secret_key=secret_key))


async def service_postgres(dsn: str, dataset: Dataset, password_hash: str, *, deep: bool) -> None:
    """Fill the service's migrated PostgreSQL database with COPY, then move the users id sequence
    past the ids we chose and ANALYZE, as a database in use would have statistics."""
    connection = await asyncpg.connect(dsn)
    try:
        for table, (columns, rows) in _service_tables(dataset, password_hash, deep=deep).items():
            await connection.copy_records_to_table(table, records=rows, columns=columns)
        await connection.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def original_sqlite(path: Path, dataset: Dataset) -> None:
    """Create the original's schema (with its own models) and fill it; tokens are stored in clear."""
    from .baselines.original import create_schema

    create_schema(str(path))
    password_hash = generate_password_hash(dataset.password)
    accounts = dataset.accounts(deep=False)
    users = ["id", "username", "email", "password_hash", "api_token"]
    _sqlite_insert(
        path,
        {
            "users": (users, [(a.id, a.username, a.email, password_hash, a.token) for a in accounts]),
            "notes": notes_table(accounts),
        },
    )


def fastapi_sqlite(path: Path, dataset: Dataset, password_hash: str) -> None:
    """Create the FastAPI baseline's schema (the service's tables) and fill it with the service's rows."""
    from .baselines.fastapi_app import create_schema

    create_schema(str(path))
    _sqlite_insert(path, _service_tables(dataset, password_hash, deep=False))


# The change feed's migration numbers the notes it finds (1..n per author, in the order they were last
# written) and sets each user's counter to its n; rows seeded after the migration need the same.
NUMBER_NOTES = """
UPDATE notes SET change_seq = numbered.n
FROM (
    SELECT id, row_number() OVER (PARTITION BY author_id ORDER BY updated_at, id) AS n FROM notes
) AS numbered
WHERE notes.id = numbered.id
"""
COUNT_CHANGES = "UPDATE users SET change_seq = (SELECT count(*) FROM notes WHERE notes.author_id = users.id)"


def number_changes_sqlite(path: Path) -> bool:
    """Number the seeded notes as the change feed's migration would; False for a schema without it."""
    connection = sqlite3.connect(path)
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(notes)")}
        if "change_seq" not in columns:
            return False
        with connection:
            connection.execute(NUMBER_NOTES)
            connection.execute(COUNT_CHANGES)
        return True
    finally:
        connection.close()


async def number_changes_postgres(dsn: str) -> bool:
    """`number_changes_sqlite` on PostgreSQL."""
    connection = await asyncpg.connect(dsn)
    try:
        found = await connection.fetchval(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'notes' AND column_name = 'change_seq'"
        )
        if not found:
            return False
        async with connection.transaction():
            await connection.execute(NUMBER_NOTES)
            await connection.execute(COUNT_CHANGES)
        await connection.execute("ANALYZE")
        return True
    finally:
        await connection.close()
