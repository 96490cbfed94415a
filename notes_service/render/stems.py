"""Word stems for highlighting search results (SPEC §11: every matched word, other forms too).

The stems are FTS5's own `porter` tokenizer's, the one SQLite's index uses, asked through an
in-memory SQLite database of the standard library: no stemmer of our own to drift from the index's.
PostgreSQL's index stems with Snowball's English (Porter's later version); the two agree on nearly
every word, and where they differ a matched word goes unmarked, never a wrong one marked... nearly:
a highlight is a hint, the match itself is the database's.

One connection per thread (a worker runs its event loop in one), made at first use.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable

_local = threading.local()
_SCHEMA = (
    "CREATE VIRTUAL TABLE words USING fts5(word, tokenize='porter unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'instance')",
)


def _connection() -> sqlite3.Connection:
    db: sqlite3.Connection | None = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=True)
        for statement in _SCHEMA:
            db.execute(statement)
        _local.db = db
    return db


def stems(words: Iterable[str]) -> dict[str, str]:
    """Each word (lowercase) and its stem; a word the tokenizer splits keeps its first part's."""
    distinct = list(dict.fromkeys(word.lower() for word in words))
    if not distinct:
        return {}
    db = _connection()
    db.execute("BEGIN")
    try:
        db.executemany("INSERT INTO words(rowid, word) VALUES (?, ?)", enumerate(distinct))
        rows = db.execute("SELECT doc, term FROM stems WHERE offset = 0").fetchall()
    finally:
        db.execute("ROLLBACK")  # nothing kept: the table stays empty for the next call
    found = {distinct[doc]: term for doc, term in rows}
    return {word: found.get(word, word) for word in distinct}
