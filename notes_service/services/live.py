"""What a worker's live streams ask the database (SPEC §10, `live/`): which watched users' notes
changed, and which of its streams' sign-ins still hold.

Each is one statement for all of a worker's streams, never one per stream: the ids go as a single
parameter (a JSON array on SQLite, read by `json_each`; an array on PostgreSQL, `= ANY`), and the
database looks each one up by primary key. A worker with 10,000 streams sends the same statement
as one with 10.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, NamedTuple

import orjson
from sqlalchemy import ColumnElement, Integer, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute

from ..data import Read, Store, utcnow
from ..data.models import ApiToken, AuthSession, User
from .auth_sessions import LIVE, Lifetime
from .auth_sessions import STAMPED as SESSION_STAMPED
from .tokens import STAMPED as TOKEN_STAMPED
from .tokens import UNEXPIRED


class UserSeq(NamedTuple):
    """A user's latest change number (`users.change_seq`)."""

    id: int
    change_seq: int


class SignInId(NamedTuple):
    """A token or auth session that no longer signs its user in."""

    id: int


def _ids_in(column: ColumnElement[int] | InstrumentedAttribute[int], *, sqlite: bool) -> ColumnElement[bool]:
    """`column` is one of the ids of the parameter `ids`."""
    if sqlite:
        ids = func.json_each(bindparam("ids", type_=String)).table_valued("value")
        return column.in_(select(ids.c.value))
    return column == any_(bindparam("ids", type_=ARRAY(Integer)))


def _user_seqs(sqlite: bool) -> Read[UserSeq]:
    return Read(select(User.id, User.change_seq).where(_ids_in(User.id, sqlite=sqlite)), UserSeq)


def _given_ids(sqlite: bool) -> Any:
    """The ids of the parameter `ids` as a table of one column, `value`."""
    if sqlite:
        return func.json_each(bindparam("ids", type_=String)).table_valued("value")
    return func.unnest(bindparam("ids", type_=ARRAY(Integer))).table_valued("value").render_derived()


def _ended(table: Any, signs_in: ColumnElement[bool], sqlite: bool) -> Read[SignInId]:
    """Those of the given ids of `table` (tokens or auth sessions) with no row for which `signs_in`
    holds: gone, revoked, expired, of an older security stamp or of an inactive account. Only these
    come back, so a round of 10,000 streams with none ended makes no row."""
    given = _given_ids(sqlite)
    live = select(table.id).join(User, User.id == table.user_id).where(table.id == given.c.value, signs_in)
    return Read(select(given.c.value.label("id")).where(~live.exists()), SignInId)


def _tokens(sqlite: bool) -> Read[SignInId]:
    return _ended(ApiToken, User.is_active.is_(True) & UNEXPIRED & TOKEN_STAMPED, sqlite)


def _auth_sessions(sqlite: bool) -> Read[SignInId]:
    return _ended(AuthSession, User.is_active.is_(True) & LIVE & SESSION_STAMPED, sqlite)


USER_SEQ = Read(select(User.id, User.change_seq).where(User.id == bindparam("id")), UserSeq)
USER_SEQS_SQLITE, USER_SEQS_POSTGRESQL = _user_seqs(sqlite=True), _user_seqs(sqlite=False)
TOKENS_SQLITE, TOKENS_POSTGRESQL = _tokens(sqlite=True), _tokens(sqlite=False)
AUTH_SESSIONS_SQLITE, AUTH_SESSIONS_POSTGRESQL = _auth_sessions(sqlite=True), _auth_sessions(sqlite=False)


def _ids(store: Store, ids: Collection[int]) -> str | list[int]:
    """The `ids` parameter as this database takes it."""
    as_json: str | list[int] = orjson.dumps(list(ids)).decode()
    return store.for_dialect(sqlite=as_json, postgresql=list(ids))


async def current_change_seq(store: Store, *, user_id: int) -> int:
    """The number of the user's latest change (0 before the first): where "now" is in their feed."""
    row = await store.row(USER_SEQ, id=user_id)
    return 0 if row is None else row.change_seq


async def change_seqs(store: Store, *, user_ids: Collection[int]) -> dict[int, int]:
    """Each of these users' latest change number (a deleted user is not in it)."""
    if not user_ids:
        return {}
    read = store.for_dialect(sqlite=USER_SEQS_SQLITE, postgresql=USER_SEQS_POSTGRESQL)
    rows = await store.rows(read, ids=_ids(store, user_ids))
    return {row.id: row.change_seq for row in rows}


async def ended_sign_ins(
    store: Store, *, token_ids: Collection[int], auth_session_ids: Collection[int], lifetime: Lifetime
) -> tuple[set[int], set[int]]:
    """Of these tokens and auth sessions, those that no longer sign an active user in: (token ids,
    auth session ids). Revoked, expired and ended ones, those made under an older security stamp
    (2FA turned on or off, a password reset), and any of a deactivated or deleted account."""
    tokens: set[int] = set()
    sessions: set[int] = set()
    if token_ids:
        read = store.for_dialect(sqlite=TOKENS_SQLITE, postgresql=TOKENS_POSTGRESQL)
        rows = await store.rows(read, ids=_ids(store, token_ids), now=utcnow())
        tokens = {row.id for row in rows}
    if auth_session_ids:
        bounds = lifetime.live_since(utcnow())
        read = store.for_dialect(sqlite=AUTH_SESSIONS_SQLITE, postgresql=AUTH_SESSIONS_POSTGRESQL)
        rows = await store.rows(read, ids=_ids(store, auth_session_ids), **bounds)
        sessions = {row.id for row in rows}
    return tokens, sessions


NOTIFY = select(func.pg_notify(bindparam("channel", type_=String), bindparam("payload", type_=String)))


async def notify(store: Store, *, channel: str, payload: str) -> None:
    """PostgreSQL: hand `payload` to every connection that LISTENs on `channel` (the live streams'
    relay); a read-path statement, outside any transaction, so it is sent at once."""
    await store.rows(NOTIFY, channel=channel, payload=payload)
