"""`python -m bench.commits --before 835bda0 [--after HEAD]`: two commits of the service side by side.

Each side is a checkout of the repository: `--before` always in a temporary `git worktree add --detach`
(removed afterwards), `--after` the current checkout unless another commit is named (then a worktree
too). Both run from the same venv with PYTHONPATH set to their tree, so each imports its own
`notes_service`, migrates its own database with its own `db upgrade`, reads its own hypercorn.toml,
and serves `notes-service serve --workers 2` on 127.0.0.1. Both databases get the same rows (seed.py's
reader, writer and ten 1,000-note users, without the 1.1 M-note crowd that no scenario here reads);
where the schema has the change feed, the seeded notes are then numbered as its migration numbers
the notes it finds.

Rounds are interleaved, case by case: before, after, before, after … A ratio is the median of the
per-round after/before ratios. Cases the before commit cannot serve are compared with its nearest
case of the same round: POST with an `Idempotency-Key` (a new key per request) with its plain POST,
and `GET /api/changes?since=<latest>` (nothing new) with the after side's own `GET /api/notes`.

wrk shares the two cores with the servers, so each run also records wrk's CPU time (from wait4) and
the servers' (supervisor + workers, from /proc/PID/stat), both as cores busy over the run. On
PostgreSQL the database's own backends are not in the servers' figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from . import clients, postgres, results, seed, servers, wrk

ROOT = servers.ROOT
POST_BODY = '{"title": "Written by wrk", "content": "A note created under load by the benchmark."}'
BCRYPT_ROUNDS = 4  # no scenario here signs in under load: the seed's hash only has to verify
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# wrk script for POST /api/notes with an Idempotency-Key new for every request (and every run).
IDEMPOTENT_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%(body)s'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
local counter = 0
function request()
  counter = counter + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = "%(nonce)s-" .. thread_id .. "-" .. counter
  return wrk.format(nil, nil, headers, nil)
end
"""
# wrk script for POST /api/notes as many users in turn (their tokens in a Lua table): the feed's
# cost without the queue one user's concurrent writes form on that user's row (PostgreSQL).
SPREAD_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%(body)s'
local tokens = {%(tokens)s}
local counter = 0
function request()
  counter = counter + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Authorization"] = "Bearer " .. tokens[counter %% #tokens + 1]
  return wrk.format(nil, nil, headers, nil)
end
"""


@dataclass(frozen=True)
class Case:
    """One wrk run in a round: `scenario` on `side` (a before/after pair shares a scenario)."""

    scenario: str
    side: str  # "before" or "after"
    load: wrk.Load
    expect_status: int | None = 200
    script: Callable[[], str] | None = None  # the Lua script of each run, made anew for it


@dataclass(frozen=True)
class Comparison:
    """A row of the table: after's `scenario` over before's `baseline` (or after's own, `against`)."""

    title: str
    scenario: str
    baseline: str
    against: str = "before"
    target: str = ""


COMPARISONS = (
    Comparison("GET /api/notes c=64", "api", "api"),
    Comparison("POST /api/notes c=64", "post", "post", target="≥ 0.91 (≤ 10 % dearer)"),
    Comparison("POST /api/notes + Idempotency-Key c=64 (vs before's plain POST)", "post-key", "post"),
    Comparison("POST /api/notes c=64, 11 users in turn", "post-spread", "post-spread"),
    Comparison("GET /notes (HTML) c=64", "html", "html"),
    Comparison(
        "GET /api/changes?since=<latest> vs after's GET /api/notes c=64",
        "changes",
        "api",
        against="after",
        target="≥ 0.9",
    ),
)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.commits", description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="the commit to compare with (a worktree of it)")
    parser.add_argument("--after", help="the commit measured (default: this checkout as it is)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="each wrk run")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s runs")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--cases", help="only these scenarios, comma-separated (api,post,post-key,post-spread,…)"
    )
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.seconds = 1, 2.0
    started = time.monotonic()
    try:
        outcome = asyncio.run(compare(options))
    except KeyboardInterrupt:
        print("interrupted; every server that was started has been stopped", file=sys.stderr)
        return 130
    outcome.update(
        command=" ".join(["python -m bench.commits", *sys.argv[1:]]),
        elapsed_seconds=round(time.monotonic() - started, 1),
    )
    outcome["table"] = table(outcome["runs"])
    path = save(outcome)
    print(render(outcome))
    print(f"\n{outcome['elapsed_seconds']:.0f} s; raw results: {path}")
    return 0


@contextmanager
def checkout(commit: str | None) -> Iterator[tuple[Path, str]]:
    """A tree of `commit` in a temporary detached worktree, removed afterwards; None: this checkout."""
    if commit is None:
        described = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
        ).stdout.strip()
        yield ROOT, described
        return
    parent = Path(tempfile.mkdtemp(prefix="notes-bench-tree-"))
    tree = parent / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
        check=True,
        capture_output=True,
    )
    try:
        sha = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        yield tree, sha
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
        subprocess.run(["rm", "-rf", str(parent)], check=False)


async def compare(options: argparse.Namespace) -> dict[str, Any]:
    dataset = seed.make_dataset()
    password_hash = seed.bcrypt_sha256(BCRYPT_ROUNDS).hash(dataset.password)
    secret_key = secrets.token_urlsafe(48)
    notes: list[str] = []
    started = datetime.now(UTC).isoformat(timespec="seconds")
    with (
        checkout(options.before) as (before_tree, before_sha),
        checkout(options.after) as (after_tree, after_sha),
        tempfile.TemporaryDirectory(prefix="notes-bench-commits-") as scratch_name,
    ):
        trees = {"before": before_tree, "after": after_tree}
        scratch = Path(scratch_name)
        runs: list[dict[str, Any]] = []
        async with AsyncExitStack() as stack:
            say(f"before {before_sha} ({before_tree}), after {after_sha} ({after_tree}); SQLite")
            sqlite = {}
            for side, tree in [] if options.no_sqlite else trees.items():
                workdir = scratch / f"sqlite-{side}"
                env = _env(f"sqlite+aiosqlite:///{workdir / 'notes.db'}", secret_key, tree)
                servers.migrate(workdir, env)
                seed.service_sqlite(workdir / "notes.db", dataset, password_hash, deep=False)
                seed.number_changes_sqlite(workdir / "notes.db")
                sqlite[side] = _launch(stack, f"{side}-sqlite", workdir, env)
            databases = {"sqlite": sqlite} if sqlite else {}
            if not options.no_postgres:
                postgres_servers = await _postgres(
                    stack, scratch, trees, dataset, password_hash, secret_key, notes
                )
                if postgres_servers:
                    databases["postgresql"] = postgres_servers
            else:
                notes.append("PostgreSQL skipped (--no-postgres)")
            for running in databases.values():
                for server in running.values():
                    await asyncio.to_thread(server.wait_ready)
            plans = {
                database: await asyncio.to_thread(plan, running, dataset, options.seconds, options.cases)
                for database, running in databases.items()
            }
            for database, cases in plans.items():
                say(f"warming up ({database})")
                for case in cases:
                    await run_case(replace(case, load=replace(case.load, seconds=1)), databases[database])
            for round_number in range(1, options.rounds + 1):
                for database, cases in plans.items():
                    for case in cases:
                        measured = await run_case(case, databases[database])
                        runs.append(
                            {
                                "round": round_number,
                                "database": database,
                                "scenario": case.scenario,
                                "side": case.side,
                                **measured,
                            }
                        )
                        say(
                            f"[{round_number}/{options.rounds}] {database} {case.scenario} {case.side}: "
                            f"{measured['requests_per_second']:,.0f} req/s, p99 {measured['p99_ms']:.1f} ms, "
                            f"{measured['errors']} errors, wrk {measured['wrk_cores']:.2f} cores, "
                            f"servers {measured['server_cores']:.2f} cores"
                        )
    return {
        "started": started,
        "machine": results.machine(),
        "before": before_sha,
        "after": after_sha,
        "rounds": options.rounds,
        "seconds": options.seconds,
        "notes": notes,
        "runs": runs,
    }


def _env(database_url: str, secret_key: str, tree: Path) -> dict[str, str]:
    """The service's environment, importing `notes_service` from `tree` (checked: the venv's editable
    install points at another checkout, and PYTHONPATH must win over it)."""
    env = servers.service_env(database_url, secret_key, BCRYPT_ROUNDS)
    env["PYTHONPATH"] = str(tree)
    imported = subprocess.run(
        [sys.executable, "-c", "import notes_service; print(notes_service.__file__)"],
        env=env,
        cwd="/",  # as the server, which runs in its own directory: not this checkout's
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(imported).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"PYTHONPATH={tree} imports notes_service from {imported}")
    return env


def _launch(stack: AsyncExitStack, name: str, workdir: Path, env: dict[str, str]) -> servers.Server:
    server = servers.service(name, workdir, env)
    stack.callback(server.stop)
    server.launch()
    return server


async def _postgres(
    stack: AsyncExitStack,
    scratch: Path,
    trees: dict[str, Path],
    dataset: seed.Dataset,
    password_hash: str,
    secret_key: str,
    notes: list[str],
) -> dict[str, servers.Server]:
    """Both sides on throwaway PostgreSQL databases, with Redis (keys and channels under a prefix of
    this run, deleted afterwards) when one answers; {} with a note when PostgreSQL does not."""
    redis_prefix = f"notes-bench-{secrets.token_hex(4)}:"
    redis = await _redis_reachable()
    if redis:
        stack.push_async_callback(_drop_redis_keys, redis_prefix)
    else:
        notes.append(f"Redis not reachable at {REDIS_URL}: PostgreSQL runs without it")
    running = {}
    for side, tree in trees.items():
        try:
            url = await stack.enter_async_context(postgres.temporary_database())
        except postgres.Unreachable as error:
            notes.append(f"PostgreSQL skipped: {error}")
            return {}
        env = _env(postgres.sqlalchemy_url(url), secret_key, tree)
        if redis:
            env.update(NOTES_REDIS_URL=REDIS_URL, NOTES_REDIS_PREFIX=redis_prefix)
        workdir = scratch / f"postgresql-{side}"
        servers.migrate(workdir, env)
        await seed.service_postgres(url, dataset, password_hash, deep=False)
        await seed.number_changes_postgres(url)
        running[side] = _launch(stack, f"{side}-postgresql", workdir, env)
    say("PostgreSQL" + (" + Redis" if redis else "") + ": both sides started")
    return running


async def _redis_reachable() -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_timeout=2, protocol=2)
    try:
        return bool(await client.ping())
    except (OSError, Exception):  # redis' ConnectionError and timeouts: treated alike
        return False
    finally:
        await client.aclose()


async def _drop_redis_keys(prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, protocol=2)
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
    finally:
        await client.aclose()


def plan(
    running: dict[str, servers.Server], dataset: seed.Dataset, seconds: float, only: str | None = None
) -> list[Case]:
    """Every case of a round (or those `only` names), before and after alternating; each URL checked
    once beforehand."""
    reader = clients.bearer(dataset.reader.token)
    writer = clients.bearer(dataset.writer.token)
    before, after = running["before"], running["after"]
    cookies = {
        side: clients.service_cookie(server.url, dataset.reader.email, dataset.password)
        for side, server in running.items()
    }
    cursor = _latest_cursor(after.url, dataset.reader.token)
    post = wrk.Load("", 64, seconds, (writer,), Path(__file__).with_name("post_note.lua"))
    cases = []
    for side, server in (("before", before), ("after", after)):
        cases.append(Case("api", side, wrk.Load(f"{server.url}/api/notes", 64, seconds, (reader,))))
    cases.append(
        Case("changes", "after", wrk.Load(f"{after.url}/api/changes?since={cursor}", 64, seconds, (reader,)))
    )
    for side, server in (("before", before), ("after", after)):
        cases.append(Case("post", side, replace(post, url=f"{server.url}/api/notes"), expect_status=None))
    cases.append(
        Case(
            "post-key",
            "after",
            replace(post, url=f"{after.url}/api/notes"),
            expect_status=None,
            script=lambda: IDEMPOTENT_POST % {"body": POST_BODY, "nonce": secrets.token_hex(6)},
        )
    )
    tokens = ", ".join(f'"{account.token}"' for account in (dataset.writer, *dataset.others))
    for side, server in (("before", before), ("after", after)):
        spread = wrk.Load(f"{server.url}/api/notes", 64, seconds)
        script = SPREAD_POST % {"body": POST_BODY, "tokens": tokens}
        cases.append(
            Case("post-spread", side, spread, expect_status=None, script=lambda script=script: script)
        )
    for side, server in (("before", before), ("after", after)):
        cases.append(Case("html", side, wrk.Load(f"{server.url}/notes", 64, seconds, (cookies[side],))))
    if only is not None:
        cases = [case for case in cases if case.scenario in only.split(",")]
    for case in cases:
        if case.expect_status is not None:
            clients.expect(case.load.url, case.load.headers[0], case.expect_status)
    return cases


def _latest_cursor(base_url: str, token: str) -> str:
    """The reader's cursor after a full sync: `?since=` it finds nothing new (checked)."""
    headers = {"Authorization": f"Bearer {token}"}
    with clients.client(base_url) as http:
        cursor = None
        while True:
            page = http.get("/api/changes", params={"since": cursor} if cursor else {}, headers=headers)
            page.raise_for_status()
            body = page.json()
            cursor = body["cursor"]
            if not body["more"]:
                break
        empty = http.get("/api/changes", params={"since": cursor}, headers=headers).json()
    if empty["changes"]:
        raise RuntimeError(f"GET /api/changes?since=<latest> is not empty: {empty}")
    return str(httpx.QueryParams({"since": cursor})).partition("=")[2]


async def run_case(case: Case, running: dict[str, servers.Server]) -> dict[str, Any]:
    """One wrk run, with wrk's CPU time and the CPU time of both servers (either may be busy)."""
    load = case.load
    script = None
    if case.script is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(case.script())
        script.close()
        load = replace(load, script=Path(script.name))
    try:
        before_cpu = {side: server_cpu_seconds(server) for side, server in running.items()}
        busy = machine_busy_seconds()
        result, wrk_cpu, wall = await asyncio.to_thread(run_wrk, load)
        busy = machine_busy_seconds() - busy
        after_cpu = {side: server_cpu_seconds(server) for side, server in running.items()}
    finally:
        if script is not None:
            os.unlink(script.name)
    return {
        **result.as_dict(),
        "wall_seconds": round(wall, 3),
        "wrk_cores": round(wrk_cpu / wall, 3),
        "server_cores": round((after_cpu[case.side] - before_cpu[case.side]) / wall, 3),
        "machine_cores": round(busy / wall, 3),
        "other_server_cores": round(
            sum(after_cpu[side] - before_cpu[side] for side in running if side != case.side) / wall, 3
        ),
    }


def run_wrk(load: wrk.Load) -> tuple[wrk.Result, float, float]:
    """wrk to completion: its report, its CPU seconds (user + system, from wait4), wall seconds."""
    with tempfile.TemporaryFile() as output:
        start = time.monotonic()
        process = subprocess.Popen(load.command(), stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {' '.join(load.command())}\n{text}")
    return wrk.parse(text), usage.ru_utime + usage.ru_stime, wall


def server_cpu_seconds(server: servers.Server) -> float:
    """User + system CPU seconds of the supervisor and its workers so far."""
    assert server.process is not None
    total = 0
    for pid in [server.process.pid, *server.workers()]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (not idle or waiting), everyone's processes."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def table(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per database and comparison: the median of the per-round ratios, its range, medians beside."""
    rows = []
    for database in dict.fromkeys(run["database"] for run in runs):
        for comparison in COMPARISONS:
            ratios, per_cpu, measured, baseline = [], [], [], []
            for round_number in sorted({run["round"] for run in runs}):
                found = _run(runs, database, round_number, comparison.scenario, "after")
                base = _run(runs, database, round_number, comparison.baseline, comparison.against)
                if found is None or base is None:
                    continue
                ratios.append(found["requests_per_second"] / base["requests_per_second"])
                if found["server_cores"] > 0 and base["server_cores"] > 0:
                    per_cpu.append(_per_cpu_second(found) / _per_cpu_second(base))
                measured.append(found)
                baseline.append(base)
            if not ratios:
                continue
            rows.append(
                {
                    "database": database,
                    "title": comparison.title,
                    "ratio": round(statistics.median(ratios), 3),
                    "ratios": [round(ratio, 3) for ratio in ratios],
                    "per_cpu_ratio": round(statistics.median(per_cpu), 3) if per_cpu else None,
                    "per_cpu_ratios": [round(ratio, 3) for ratio in per_cpu],
                    "target": comparison.target,
                    "after_rps": _median(measured, "requests_per_second"),
                    "baseline_rps": _median(baseline, "requests_per_second"),
                    "after_p99_ms": _median(measured, "p99_ms"),
                    "baseline_p99_ms": _median(baseline, "p99_ms"),
                    "errors": sum(run["errors"] for run in measured + baseline),
                    "wrk_cores": [_median(baseline, "wrk_cores"), _median(measured, "wrk_cores")],
                    "server_cores": [_median(baseline, "server_cores"), _median(measured, "server_cores")],
                    "machine_cores": _median(baseline + measured, "machine_cores"),
                }
            )
    return rows


def _per_cpu_second(run: dict[str, Any]) -> float:
    """Requests answered per CPU second of the server's own processes: on a machine where others
    take most of the cores, what a request costs moves less than what a round happens to get."""
    return float(run["requests_per_second"] / run["server_cores"])


def _run(runs: list[dict[str, Any]], database: str, round_number: int, scenario: str, side: str) -> Any:
    for run in runs:
        if (run["database"], run["round"], run["scenario"], run["side"]) == (
            database,
            round_number,
            scenario,
            side,
        ):
            return run
    return None


def _median(runs: list[dict[str, Any]], figure: str) -> float:
    return round(statistics.median(run[figure] for run in runs), 2)


def render(outcome: dict[str, Any]) -> str:
    lines = [
        f"## {outcome['after']} / {outcome['before']}, {outcome['rounds']} interleaved rounds "
        f"of {outcome['seconds']:g} s, serve --workers 2",
        "",
        "| database | scenario | after/before (median of rounds) | rounds "
        "| per server CPU second: after/before (rounds) | req/s base → after "
        "| p99 ms base → after | errors | wrk cores base, after | servers cores base, after "
        "| machine busy, cores | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in outcome["table"]:
        lines.append(
            f"| {row['database']} | {row['title']} | **{row['ratio']:.3f}** | "
            f"{_listed(row['ratios'])} | "
            f"{_figure(row['per_cpu_ratio'])} ({_listed(row['per_cpu_ratios'])}) | "
            f"{row['baseline_rps']:,.0f} → {row['after_rps']:,.0f} | "
            f"{row['baseline_p99_ms']:.1f} → {row['after_p99_ms']:.1f} | {row['errors']} | "
            f"{row['wrk_cores'][0]:.2f}, {row['wrk_cores'][1]:.2f} | "
            f"{row['server_cores'][0]:.2f}, {row['server_cores'][1]:.2f} | "
            f"{row['machine_cores']:.2f} | {row['target']} |"
        )
    lines.append("")
    lines.append(
        "cores: CPU seconds ÷ wall seconds of the run, out of the machine's 2; machine busy counts "
        "everyone's processes (other test suites too), the servers' PostgreSQL backends included. "
        "Per server CPU second: requests ÷ CPU seconds of the measured server's own processes (not "
        "PostgreSQL's), the steadier figure when the machine is shared."
    )
    lines += [f"- {note}" for note in outcome["notes"]]
    return "\n".join(lines)


def _listed(ratios: list[float]) -> str:
    return ", ".join(f"{ratio:.2f}" for ratio in ratios)


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def save(outcome: dict[str, Any]) -> Path:
    results.RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = results.RESULTS_DIR / f"commits-{stamp}.json"
    path.write_text(json.dumps(outcome, indent=2) + "\n")
    return path


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
