"""Interleaved A/B of GET /api/notes c=64: req/s and CPU per request (workers + the PostgreSQL
backends of the server's own database), servers started and seeded by the bench code.

    git archive main | tar -x -C /tmp/main        # each variant: a checkout of the package
    flock /tmp/bench.lock .venv/bin/python -m bench.per_request.ab main=/tmp/main branch=$PWD

Each variant runs as `notes-service serve --workers 2` with PYTHONPATH=its directory, on SQLite and
PostgreSQL (KINDS=sqlite,pg; `pgsock` adds PostgreSQL through its Unix socket in /var/run/postgresql),
beside the ceiling (CEIL=0 leaves it out); ROUNDS (5) x SECONDS (3). CPU per request is split into
the workers' own and their database's backends'; on PostgreSQL, requests per statement is the
requests over the transactions the database committed meanwhile (each read is one, in autocommit).
"""

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bench import clients, postgres, seed, servers, wrk

ROUNDS = int(os.environ.get("ROUNDS", 5))
SECONDS = float(os.environ.get("SECONDS", 3))
VARIANTS = dict(a.split("=", 1) for a in sys.argv[1:])
KINDS = os.environ.get("KINDS", "sqlite,pg").split(",")
TICK = os.sysconf("SC_CLK_TCK")


def cpu(pids):
    t = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rpartition(")")[2].split()
            t += int(f[11]) + int(f[12])
        except OSError:
            pass
    return t / TICK


def psql(query):
    command = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", query, "postgres"]
    return subprocess.run(command, capture_output=True, text=True).stdout


def backends(db):
    if not db:
        return []
    return [int(x) for x in psql(f"select pid from pg_stat_activity where datname='{db}'").split()]


def transactions(db):
    """Transactions committed in the database so far: one per read statement (autocommit)."""
    return int(psql(f"select xact_commit from pg_stat_database where datname='{db}'") or 0) if db else 0


async def main():
    dataset = seed.make_dataset()
    pw = seed.bcrypt_sha256(4).hash(dataset.password)
    key = secrets.token_urlsafe(48)
    scratch = Path(tempfile.mkdtemp(prefix="wtpg-ab3-"))
    running = {}
    dbname = {}
    cms = []
    try:
        for label, src in VARIANTS.items():
            for kind in KINDS:
                wd = scratch / f"{label}-{kind}"
                if kind in ("pg", "pgsock"):
                    cm = postgres.temporary_database()
                    url = await cm.__aenter__()
                    cms.append(cm)
                    database_url = postgres.sqlalchemy_url(url)
                    if kind == "pgsock":  # the same server through its Unix socket
                        tcp = make_url(database_url)
                        socket_url = URL.create(
                            tcp.drivername, tcp.username, tcp.password, database=tcp.database,
                            query={"host": "/var/run/postgresql"},
                        )  # fmt: skip
                        database_url = socket_url.render_as_string(hide_password=False)
                    env = servers.service_env(database_url, key, 4)
                    dbname[f"{label}-{kind}"] = url.rsplit("/", 1)[1]
                else:
                    env = servers.service_env(f"sqlite+aiosqlite:///{wd}/notes.db", key, 4)
                env["PYTHONPATH"] = src
                servers.migrate(wd, env)
                if kind in ("pg", "pgsock"):
                    await seed.service_postgres(url, dataset, pw, deep=False)
                else:
                    seed.service_sqlite(wd / "notes.db", dataset, pw, deep=False)
                s = servers.service(f"{label}-{kind}", wd, env)
                running[s.name] = s
                s.launch()
        if os.environ.get("CEIL", "1") == "1":
            s = servers.ceiling(scratch / "ceiling")
            running["ceiling"] = s
            s.launch()
        for s in running.values():
            s.wait_ready()
        h = clients.bearer(dataset.reader.token)
        for s in running.values():
            if s.name != "ceiling":
                clients.expect(f"{s.url}/api/notes", h, 200)
            await wrk.run(wrk.Load(f"{s.url}/api/notes", 64, 1, (h,)))
        res = {n: [] for n in running}
        cpus = {n: [] for n in running}
        for r in range(ROUNDS):
            for n, s in running.items():
                workers = s.workers()
                pids = workers + backends(dbname.get(n))
                c0, w0, x0 = cpu(pids), cpu(workers), transactions(dbname.get(n))
                out = await wrk.run(wrk.Load(f"{s.url}/api/notes", 64, SECONDS, (h,)))
                used, used_by_workers = cpu(pids) - c0, cpu(workers) - w0
                statements = transactions(dbname.get(n)) - x0
                requests = max(out.requests, 1)
                res[n].append(out.requests_per_second)
                cpus[n].append(used / requests * 1e6)
                by_workers = used_by_workers / requests * 1e6
                by_backends = (used - used_by_workers) / requests * 1e6
                print(
                    f"round {r + 1} {n:12s} {out.requests_per_second:8.1f} req/s  p99 {out.p99_ms:6.1f} ms"
                    f"  err {out.errors}  cpu/req {cpus[n][-1]:6.0f} us"
                    f" (workers {by_workers:.0f}, backends {by_backends:.0f})"
                    + (f"  {requests / statements:.1f} requests a statement" if statements > 0 else ""),
                    flush=True,
                )
        print("median req/s:", {n: round(statistics.median(v), 1) for n, v in res.items()})
        print(
            "median CPU us/request (workers + own PG backends):",
            {n: round(statistics.median(v)) for n, v in cpus.items()},
        )

        def ratio(a, b):
            return statistics.median(x / y for x, y in zip(res[a], res[b], strict=True))

        labels = list(VARIANTS)
        pairs = [(f"{v}-{k}", f"{labels[0]}-{k}") for v in labels[1:] for k in KINDS]
        pairs += [
            (f"{v}-{k}", f"{v}-sqlite") for v in labels for k in KINDS if k != "sqlite" and "sqlite" in KINDS
        ]
        if "ceiling" in res:
            pairs += [(f"{v}-sqlite", "ceiling") for v in labels if "sqlite" in KINDS]
        for a, b in pairs:
            per_round = [round(x / y, 2) for x, y in zip(res[a], res[b], strict=True)]
            print(f"ratio {a} / {b}: {ratio(a, b):.3f} per round {per_round}")
    finally:
        for s in running.values():
            s.stop()
        for cm in cms:
            await cm.__aexit__(None, None, None)


asyncio.run(main())
