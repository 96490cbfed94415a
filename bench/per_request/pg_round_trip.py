"""What one PostgreSQL read costs the worker and its backend, by what it reads, µs a call:

    flock /tmp/bench.lock .venv/bin/python -m bench.per_request.pg_round_trip   # database pg_round_trip

One asyncpg connection planning generic plans (as the read pool's hot reads do), 3,000 calls of
each statement one after another; the worker's CPU from `time.process_time`, the backend's from
/proc, divided by the calls a statement carries. `SELECT 1` is the round trip alone; the token
check and the token + first page (the statement a plain `GET /api/notes` runs, a `BatchedRead`:
here for one call, then for ten at once, as requests share it under load) are the service's own
compiled statements; the last is one call's rows shaped as a UNION ALL, the user's columns once
instead of on every note, to see whether the repeated columns are what the page costs.
"""

import os
import time

import asyncpg
import uvloop

from bench.per_request.reader import twenty_note_reader
from notes_service import create_app
from notes_service.data.compiled import CompiledCache
from notes_service.data.models import utcnow
from notes_service.services import first_page, tokens
from notes_service.services.security import digest
from tests.databases import migrate, pg_admin
from tests.helpers import app_settings

DATABASE = "pg_round_trip"
URL = f"postgresql://postgres@127.0.0.1/{DATABASE}"
N = 3000
USER_ONCE = """WITH t AS (SELECT users.id AS user_id, users.username, users.email,
  users.created_at AS user_created_at, users.email_verified_at IS NOT NULL AS email_verified,
  users.totp_secret IS NOT NULL AS two_factor, api_tokens.id AS token_id, api_tokens.last_used_at
  FROM api_tokens JOIN users ON api_tokens.user_id = users.id
  WHERE api_tokens.token_digest = $2::VARCHAR AND users.is_active IS true
  AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > $3::TIMESTAMP WITH TIME ZONE))
SELECT * FROM (
  SELECT t.*, NULL::integer AS id, NULL::varchar AS title, NULL::text AS content,
    NULL::boolean AS is_pinned, NULL::timestamptz AS created_at, NULL::timestamptz AS updated_at,
    NULL::integer AS version FROM t
  UNION ALL
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, page.* FROM t CROSS JOIN LATERAL (
    SELECT notes.id, notes.title, notes.content, notes.is_pinned, notes.created_at,
      notes.updated_at, notes.version FROM notes
    WHERE notes.author_id = t.user_id AND notes.deleted_at IS NULL
    ORDER BY notes.is_pinned DESC, notes.created_at DESC, notes.id DESC LIMIT $1) AS page
) AS u ORDER BY u.id IS NOT NULL, u.is_pinned DESC, u.created_at DESC, u.id DESC"""


def backend_cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main():
    app = create_app(app_settings(URL.replace("postgresql://", "postgresql+asyncpg://")))
    async with app.test_app():
        store, _, secret = await twenty_note_reader(app)
        compiled = CompiledCache(store.database.engine.dialect)
        token_and_page = compiled.get(first_page.TOKEN_USER_FIRST_PAGE.read)
        token = compiled.get(tokens.TOKEN_USER)
    connection = await asyncpg.connect(URL)
    await connection.execute("SET plan_cache_mode = force_generic_plan")
    pid = connection.get_server_pid()
    now = utcnow()

    def calls(count):
        return token_and_page.arguments(
            {"digest": [digest(secret)] * count, "now": [now] * count, "limit": 21}
        )

    statements = {  # name -> (SQL, arguments, calls it carries)
        "SELECT 1 (the round trip alone)": ("SELECT 1", [], 1),
        "the token check (TOKEN_USER, 1 row)": (
            token.sql,
            token.arguments({"digest": digest(secret), "now": now}),
            1,
        ),
        "token + first page, one call (TOKEN_USER_FIRST_PAGE, 20 rows x 16 columns)": (
            token_and_page.sql,
            calls(1),
            1,
        ),
        "token + first page, ten calls in one statement (per call)": (token_and_page.sql, calls(10), 10),
        "one call's rows, the user's columns once (UNION ALL, 21 rows)": (
            USER_ONCE,
            [21, digest(secret), now],
            1,
        ),
    }
    print("| statement | worker µs | backend µs | wall µs |")
    for name, (sql, arguments, per_statement) in statements.items():
        for _ in range(300):
            await connection.fetch(sql, *arguments)
        worker, backend, wall = time.process_time(), backend_cpu(pid), time.perf_counter()
        for _ in range(N):
            await connection.fetch(sql, *arguments)
        worker, backend, wall = (
            time.process_time() - worker,
            backend_cpu(pid) - backend,
            time.perf_counter() - wall,
        )
        each = N * per_statement
        print(
            f"| {name} | {worker / each * 1e6:.0f} | {backend / each * 1e6:.0f} | {wall / each * 1e6:.0f} |"
        )
    await connection.close()


pg_admin([f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}"])
try:
    migrate(URL.replace("postgresql://", "postgresql+asyncpg://"))
    uvloop.run(main())
finally:
    pg_admin([f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"])
