#!/usr/bin/env bash
# The figures of docs/scaling.md, measured on one `notes-service serve` against a throwaway
# PostgreSQL database (and Redis database 13, under a prefix of this run's own). Run it under
# `flock /tmp/bench.lock` on a shared machine:
#   bench/scaling/measure.sh connections WORKERS   most PostgreSQL connections seen under wrk load
#   bench/scaling/measure.sh redis                 Redis commands per request, by kind of request
#   bench/scaling/measure.sh pgbouncer MODE [QUERY] reads and writes through PgBouncer (session|transaction),
#                                                 QUERY added to the URL (prepared_statement_cache_size=0)
# Needs psql, wrk, redis-cli (and pgbouncer) on PATH, PostgreSQL on 127.0.0.1:5432 (user postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$PWD/.venv/bin
WHAT=${1:?connections WORKERS, redis, or pgbouncer MODE}
DB=notes_scale_$$
PG="psql -h 127.0.0.1 -U postgres -d postgres -Atq"
WD=$(mktemp -d) && chmod 755 "$WD"
free_port() { $BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) && BASE=http://127.0.0.1:$PORT
export NOTES_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/$DB
export NOTES_SECRET_KEY=scaling-measure-secret-key-0123456789abcdefghij NOTES_BCRYPT_ROUNDS=4
export NOTES_REDIS_URL=redis://127.0.0.1:6379/13 NOTES_REDIS_PREFIX=scaling-$$: NOTES_OUTBOX_DIR=$WD/outbox
export NOTES_AUTH_RATE_LIMIT=1000000/60  # counted in Redis, never refused
SERVER= PGBOUNCER= SAMPLER= MONITOR=

cleanup() {
  for pid in $SAMPLER $MONITOR $PGBOUNCER; do kill "$pid" 2>/dev/null || true; done
  [ -n "$SERVER" ] && kill -- "-$SERVER" 2>/dev/null && sleep 1
  $PG -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
  redis-cli -n 13 --scan --pattern "scaling-$$:*" | xargs -r redis-cli -n 13 DEL >/dev/null
}
trap cleanup EXIT

serve() {  # serve WORKERS: a migrated database, the server, one account with 30 notes, $TOKEN
  $PG -c "CREATE DATABASE $DB"
  NOTES_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/$DB $BIN/notes-service db upgrade >/dev/null 2>&1
  (cd "$WD" && exec setsid "$BIN/notes-service" serve --bind "127.0.0.1:$PORT" --workers "$1" >server.log 2>&1) &
  SERVER=$!
  for _ in $(seq 150); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
  post /api/users '{"username":"cap","email":"cap@example.com","password":"correct horse battery"}' >/dev/null
  TOKEN=$(post /api/token '{"email":"cap@example.com","password":"correct horse battery"}' \
    | $BIN/python -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  for n in $(seq 30); do post /api/notes "{\"title\":\"n$n\",\"content\":\"c\"}" -H "Authorization: Bearer $TOKEN" >/dev/null; done
}
post() { curl -sf -XPOST "$BASE$1" -H 'Content-Type: application/json' -d "$2" "${@:3}"; }
reads() { wrk -t1 -c"$1" -d5s -H "Authorization: Bearer $TOKEN" "$BASE/api/notes"; }
writes() { wrk -t1 -c"$1" -d5s -H "Authorization: Bearer $TOKEN" -s bench/post_note.lua "$BASE/api/notes"; }
mixed() { reads "$1" >"$WD/reads.out" 2>&1 & local pid=$!; writes "$1" >"$WD/writes.out" 2>&1; wait $pid; }
connections() { $PG -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'"; }

peak() {  # peak COMMAND...: the most connections seen (every 0.1 s) while it runs, and its req/s
  (while :; do connections; sleep 0.1; done) >"$WD/samples" & SAMPLER=$!
  "$@" >"$WD/wrk.out" 2>&1
  kill $SAMPLER && wait $SAMPLER 2>/dev/null || true; SAMPLER=
  echo "peak $(sort -n "$WD/samples" | tail -1) connections; $(cat "$WD"/*.out | grep -h Requests/sec | tr -s ' ' | paste -sd' ')"
}

case $WHAT in
connections)
  serve "${2:?WORKERS}"
  echo "workers=$2, idle after start: $(connections) connections"
  echo "GET /api/notes c=64 5 s: $(peak reads 64)"
  echo "POST /api/notes c=64 5 s: $(peak writes 64)"
  rm -f "$WD"/*.out
  echo "both at once, c=64 each: $(peak mixed 64)"
  ;;
redis)
  serve 1
  redis-cli MONITOR >"$WD/monitor" & MONITOR=$!
  sleep 0.5
  $BIN/python -m bench.scaling.requests "$BASE" "$TOKEN"
  sleep 0.5 && kill $MONITOR && MONITOR=
  # Database 13's commands, per phase (the script ECHOes each phase's name; its SELECTs are redis-cli's).
  grep -E '^[0-9.]+ \[13 ' "$WD/monitor" | awk '
    /"ECHO"/ { gsub(/"/, "", $NF); phase = $NF; next }
    /"SELECT"/ { next }
    { gsub(/"/, "", $4); count[phase " " toupper($4)]++ }
    END { for (key in count) print key, count[key] }' | sort
  ;;
pgbouncer)
  MODE=${2:?session or transaction}
  BOUNCER_PORT=$(free_port)
  printf '[databases]\n* = host=127.0.0.1 port=5432 user=postgres\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = %s\nauth_type = any\npool_mode = %s\ndefault_pool_size = 20\nmax_client_conn = 200\nunix_socket_dir =\n' \
    "$BOUNCER_PORT" "$MODE" >"$WD/pgbouncer.ini"
  pgbouncer -q -u postgres "$WD/pgbouncer.ini" & PGBOUNCER=$!
  export NOTES_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$BOUNCER_PORT/$DB${3:+?$3}"  # db upgrade goes direct
  serve 1
  mixed 32
  for kind in reads writes; do echo "$MODE, $kind c=32 5 s: $(grep -hE 'requests in|Non-2xx' "$WD/$kind.out" | tr -s ' ' | paste -sd' ')"; done
  echo "server errors: $(grep -ohE 'asyncpg\.exceptions\.[A-Za-z]+' "$WD/server.log" | sort | uniq -c | paste -sd' ')"
  ;;
*) echo "unknown: $WHAT" >&2; exit 2 ;;
esac
