"""What every table shares: the declarative base, its naming convention and UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; constraint names follow one convention so migrations can name them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # An id is never given twice, even after its row is deleted for good (SPEC §1): the change feed
    # and ETags name notes by id. PostgreSQL's sequences never go back; SQLite needs AUTOINCREMENT,
    # or it hands the highest id out again once its row is deleted. Tables with arguments of their
    # own repeat this (`SQLITE_IDS`).
    __table_args__: Any = {"sqlite_autoincrement": True}


SQLITE_IDS = {"sqlite_autoincrement": True}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no offset, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class TagList(TypeDecorator[list[str]]):
    """A note's tags as one text column, space-separated (a tag holds no blank: rules.py), read back
    as a list in the order they were given. The note row carries them, so every read of a note (the
    API, the feed, the export, the stream) has them without a join; `note_tags` is their index."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str | None:
        return None if value is None else " ".join(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> list[str] | None:
        return None if value is None else str(value).split()
