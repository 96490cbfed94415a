"""Search finds other forms of a word (SPEC §11 Find): stemmed indexes on both databases, and an
unstemmed one for the word being typed and `word*` prefixes; every existing note is indexed again.

A stemmed index keeps "run" for "running", so a prefix of the word ("runn") no longer matches it:
prefixes are looked up among the words as written, whole words among their stems.

SQLite: `notes_fts` (title, content, author) and `notes_title_fts` (title, author) are made again
with FTS5's `porter` tokenizer wrapping `unicode61 remove_diacritics 0` (accents still count, as on
PostgreSQL); `notes_prefix_fts` (title, content, author) keeps the words as written, for prefixes.
All three are contentless, hold live notes only, and are kept in step by the triggers, which now
feed all three. PostgreSQL: the text search configuration `notes_english` is `english` with its
Snowball stemmer replaced by one without a stop-word list (no word of a query is ignored: "the who"
finds "the who"), and `ix_notes_search` indexes `to_tsvector('notes_english', …) ||
to_tsvector('simple', …)`: stems for words, the words as written for prefixes, in one GIN index.

Revision ID: a84fef3da729
Revises: ef4ab980105d
Create Date: 2026-12-08 22:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a84fef3da729"
down_revision: str | None = "ef4ab980105d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("notes_fts_insert", "notes_fts_delete", "notes_fts_update")
STEMMED = "tokenize='porter unicode61 remove_diacritics 0'"
AS_WRITTEN = "tokenize='unicode61 remove_diacritics 0'"


def _tables(tokenize: str, prefix_table: bool) -> list[str]:
    tables = [
        f"CREATE VIRTUAL TABLE notes_fts USING fts5(title, content, author, content='', {tokenize})",
        f"CREATE VIRTUAL TABLE notes_title_fts USING fts5(title, author, content='', {tokenize})",
    ]
    if prefix_table:
        tables.append(
            f"CREATE VIRTUAL TABLE notes_prefix_fts USING fts5(title, content, author, content='', {AS_WRITTEN})"
        )
    return tables


def _statements(row: str, prefix_table: bool, delete: bool, where: str = "") -> str:
    """The INSERTs that add (or, with `delete`, remove) the `row` (`new`/`old`) of `notes` to each
    table, each acting only `where` holds."""
    command = "'delete', " if delete else ""
    tables = [("notes_fts", "title, content"), ("notes_title_fts", "title")]
    if prefix_table:
        tables.append(("notes_prefix_fts", "title, content"))
    statements = []
    for table, columns in tables:
        values = ", ".join(f"{row}.{column.strip()}" for column in columns.split(","))
        head = (
            f"INSERT INTO {table}({table}, rowid, {columns}, author)"
            if delete
            else (f"INSERT INTO {table}(rowid, {columns}, author)")
        )
        statements.append(f"{head} SELECT {command}{row}.id, {values}, 'a' || {row}.author_id {where};")
    return " ".join(statements)


def _triggers(prefix_table: bool) -> list[str]:
    live_old, live_new = "WHERE old.deleted_at IS NULL", "WHERE new.deleted_at IS NULL"
    return [
        "CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes WHEN new.deleted_at IS NULL "
        f"BEGIN {_statements('new', prefix_table, delete=False)} END",
        "CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes WHEN old.deleted_at IS NULL "
        f"BEGIN {_statements('old', prefix_table, delete=True)} END",
        # One trigger, so the old entry is surely removed before the new one is added.
        "CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, content, deleted_at ON notes BEGIN "
        f"{_statements('old', prefix_table, delete=True, where=live_old)} "
        f"{_statements('new', prefix_table, delete=False, where=live_new)} END",
    ]


def _fill(prefix_table: bool) -> list[str]:
    live = "FROM notes WHERE deleted_at IS NULL"
    fills = [
        f"INSERT INTO notes_fts(rowid, title, content, author) SELECT id, title, content, 'a' || author_id {live}",
        f"INSERT INTO notes_title_fts(rowid, title, author) SELECT id, title, 'a' || author_id {live}",
    ]
    if prefix_table:
        fills.append(
            "INSERT INTO notes_prefix_fts(rowid, title, content, author) "
            f"SELECT id, title, content, 'a' || author_id {live}"
        )
    # One segment each instead of the many a bulk build leaves: a prefix query visits each one.
    tables = ["notes_fts", "notes_title_fts"] + (["notes_prefix_fts"] if prefix_table else [])
    return fills + [f"INSERT INTO {table}({table}) VALUES ('optimize')" for table in tables]


def _rebuild_sqlite(stemmed: bool) -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in ("notes_fts", "notes_title_fts", "notes_prefix_fts"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in [*_tables(STEMMED if stemmed else AS_WRITTEN, stemmed), *_fill(stemmed)]:
        op.execute(statement)
    for statement in _triggers(stemmed):
        op.execute(statement)


def _document(config: str) -> str:
    return f"to_tsvector('{config}'::regconfig, regexp_replace(title || ' ' || content, '[[:punct:]]+', ' ', 'g'))"


# services/search.py builds the very same expression (constants and all), or the index is not used.
PG_DOCUMENT = f"({_document('notes_english')} || {_document('simple')})"
PG_DOCUMENT_BEFORE = _document("simple")
PG_CONFIGURATION = [
    "CREATE TEXT SEARCH DICTIONARY notes_english_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION notes_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION notes_english ALTER MAPPING REPLACE english_stem WITH notes_english_stem",
]


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _rebuild_sqlite(stemmed=True)
        return
    for statement in PG_CONFIGURATION:
        op.execute(statement)
    op.execute("DROP INDEX IF EXISTS ix_notes_search")
    op.execute(f"CREATE INDEX ix_notes_search ON notes USING gin ({PG_DOCUMENT})")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _rebuild_sqlite(stemmed=False)
        return
    op.execute("DROP INDEX IF EXISTS ix_notes_search")
    op.execute(f"CREATE INDEX ix_notes_search ON notes USING gin ({PG_DOCUMENT_BEFORE})")
    op.execute("DROP TEXT SEARCH CONFIGURATION notes_english")
    op.execute("DROP TEXT SEARCH DICTIONARY notes_english_stem")
