"""Turn raw runs into the table: medians per case, the target ratios, each marked met or not.

Only ratios between cases measured in the same run mean anything on a shared machine; the absolute
numbers are printed for context. The table shows medians over rounds, with errors summed over rounds
(so "0" means none in any round); a ratio between two cases is the median of its per-round ratios.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import browser_report
from .logins import CORES

PRIVATE_LIMIT_MIB = 25  # per worker: what forking from one import must leave each worker on its own
PSS_LIMIT_MIB = 150  # `serve --workers 4`: supervisor and workers together
PROBE_FIGURES = ("megabytes", "rss_rise_mib", "hwm_rise_mib")  # http/export.py's, medians like the rest
Row = dict[str, Any]


def summarize(runs: list[Row]) -> list[Row]:
    """One row per (scenario, case) in first-seen order: medians over rounds, errors summed."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for run in runs:
        groups.setdefault((run["scenario"], run["case"]), []).append(run)
    rows = []
    for found in groups.values():
        row = {key: found[0][key] for key in ("scenario", "case", "title", "server", "label", "connections")}
        row["rounds"] = len(found)
        for key in ("requests_per_second", "p50_ms", "p99_ms", "logins_per_second", *PROBE_FIGURES):
            if key in found[0]:
                row[key] = statistics.median(run[key] for run in found)
        for key in ("errors", "login_failures"):
            if key in found[0]:
                row[key] = sum(run[key] for run in found)
        rows.append(row)
    return rows


class Measured:
    """The runs of one results file, by (scenario, case): medians as in the table, and paired ratios."""

    def __init__(self, results: Row) -> None:
        self.results = results
        self.rows = {(row["scenario"], row["case"]): row for row in results["summary"]}
        self.rounds: dict[tuple[str, str], dict[int, Row]] = {}
        for run in results["runs"]:
            self.rounds.setdefault((run["scenario"], run["case"]), {})[run["round"]] = run

    def __call__(self, scenario: str, case: str, figure: str = "requests_per_second") -> float:
        return float(self.rows[scenario, case][figure])

    def paired(self, scenario: str, case: str, baseline: str, figure: str = "requests_per_second") -> float:
        """Median over rounds of case ÷ baseline, each pair measured back to back in its round.

        Pairing cancels what drifts between rounds on a shared machine (a neighbour's test suite
        starting): a round where both are slow still gives the right ratio.
        """
        cases, baselines = self.rounds[scenario, case], self.rounds[scenario, baseline]
        return statistics.median(
            cases[number][figure] / baselines[number][figure] for number in cases if number in baselines
        )

    def worst_round(self, scenario: str, case: str, baseline: str) -> float:
        """The lowest per-round ratio of req/s: for a target that must hold in every round."""
        cases, baselines = self.rounds[scenario, case], self.rounds[scenario, baseline]
        figure = "requests_per_second"
        return min(
            cases[number][figure] / baselines[number][figure] for number in cases if number in baselines
        )

    def of_two_cores(self, scenario: str, case: str, figure: str = "requests_per_second") -> float:
        """Sign-ins/s as a share of 2 cores ÷ one bcrypt hash: per round with the hash timed just
        before that flood (median of rounds), or with the one timed at the start of the run (older
        results)."""
        runs = self.rounds[scenario, case].values()
        if all("one_hash_seconds" in run for run in runs):
            return statistics.median(run[figure] * run["one_hash_seconds"] / CORES for run in runs)
        return self(scenario, case, figure) / float(self.results["bcrypt"]["two_core_logins_per_second"])

    def service_rss(self) -> float:
        rss = self.results["rss"]
        return max(peak for name in rss if name.startswith("service") for peak in rss[name]["workers_mib"])

    def with_workers(self, workers: int, figure: str) -> float:
        """`tree_pss_mib` of `serve --workers N` after load, or the largest of its `workers_private_mib`."""
        return _largest({record["workers"]: record for record in self.results["memory"]}[workers][figure])

    def service_memory(self, figure: str) -> float:
        """`tree_pss_mib` of the SQLite service after the run, or the largest of its `workers_private_mib`."""
        return _largest(self.results["rss"]["service"][figure])


def _largest(figure: float | list[float]) -> float:
    """A figure as it is, or the largest of a list of them (one per worker)."""
    return max(figure) if isinstance(figure, list) else float(figure)


@dataclass(frozen=True)
class Ratio:
    name: str
    value: Callable[[Measured], float]
    goal: str = ""  # "≥ 2.0", "≤ 1.3", or "" for a figure shown without a target

    def judge(self, measured: Measured) -> Row:
        try:
            value: float | None = self.value(measured)
        except (KeyError, ValueError, ZeroDivisionError):  # a case not run, never answered, no workers
            value = None
        met = None
        if value is not None and self.goal:
            bound = float(self.goal[2:])
            met = value >= bound if self.goal.startswith("≥") else value <= bound
        return {"name": self.name, "value": value, "goal": self.goal, "met": met}


RATIOS = (
    Ratio(
        "service / original req/s, GET /api/notes c=64",
        lambda m: m.paired("api-c64", "service", "original"),
        "≥ 2.0",
    ),
    Ratio(
        "service / original req/s, GET /api/notes c=64, worst round",
        lambda m: m.worst_round("api-c64", "service", "original"),
        "≥ 2.0",
    ),
    Ratio(
        "service / ceiling req/s, GET /api/notes c=64",
        lambda m: m.paired("api-c64", "service", "ceiling"),
        "≥ 0.7",
    ),
    Ratio(
        "service-pg / service (SQLite) req/s, GET /api/notes c=64",
        lambda m: m.paired("api-c64", "service-pg", "service"),
        "≥ 0.8",
    ),
    Ratio(
        "service / fastapi req/s, GET /api/notes c=64",
        lambda m: m.paired("api-c64", "service", "fastapi"),
        "≥ 2.0",
    ),
    Ratio(
        "service p99 / original p99, GET /api/notes c=64",
        lambda m: m.paired("api-c64", "service", "original", "p99_ms"),
        "≤ 1.0",
    ),
    Ratio("service errors, GET /api/notes c=256", lambda m: m("api-c256", "service", "errors"), "≤ 0"),
    Ratio(
        "service p99 / original p99, GET /api/notes c=256",
        lambda m: m.paired("api-c256", "service", "original", "p99_ms"),
        "≤ 1.0",
    ),
    Ratio(
        "read p99 during sign-in flood / quiet read p99",
        lambda m: m.paired("logins", "flood", "quiet", "p99_ms"),
        "≤ 3.0",
    ),
    Ratio(
        "sign-ins/s / (2 cores ÷ one hash), flood alone",
        lambda m: m.of_two_cores("logins", "sign-ins"),
        "≥ 0.85",
    ),
    Ratio(
        "cost (1 ÷ req/s) of last page of 100,000 / 20-note page",
        lambda m: m.paired("depth", "small", "deep-last"),
        "≤ 1.3",
    ),
    Ratio(
        "search first page / plain first page req/s, 100,000-note user of 1.1 M notes",
        lambda m: m.paired("search", "word", "plain"),
        "≥ 0.5",
    ),
    Ratio(
        "note page req/s, 2 KB of Markdown / plain text of the same length",
        lambda m: m.paired("note-page", "markdown", "plain"),
        "≥ 0.8",
    ),
    Ratio(
        "sign-ins with 2FA/s (forms + TOTP) / (2 cores ÷ one hash)",
        lambda m: m.of_two_cores("signin-2fa", "sign-ins"),
        "≥ 0.85",
    ),
    Ratio("mail messages/s, first reset requested to last delivered", lambda m: m("mail", "service"), "≥ 50"),
    Ratio(
        "mail: resets refused + messages lost or delivered twice",
        lambda m: m("mail", "service", "errors"),
        "≤ 0",
    ),
    Ratio(
        "serve --workers 4 after GET /api/notes c=64: PSS of supervisor + workers, MiB",
        lambda m: m.with_workers(4, "tree_pss_mib"),
        f"≤ {PSS_LIMIT_MIB}",
    ),
    Ratio(
        "serve --workers 4, same: private memory of the largest worker, MiB",
        lambda m: m.with_workers(4, "workers_private_mib"),
        f"≤ {PRIVATE_LIMIT_MIB}",
    ),
    # Context, no target:
    Ratio("serve --workers 1, same: PSS summed, MiB", lambda m: m.with_workers(1, "tree_pss_mib")),
    Ratio("serve --workers 2, same: PSS summed, MiB", lambda m: m.with_workers(2, "tree_pss_mib")),
    Ratio(
        "service private memory per worker after the whole run, MiB",
        lambda m: m.service_memory("workers_private_mib"),
    ),
    Ratio("service peak RSS per worker (shared pages counted in each), MiB", lambda m: m.service_rss()),
    Ratio("service PSS, supervisor + workers, MiB", lambda m: m.service_memory("tree_pss_mib")),
    Ratio(
        "prefix search (word*) first page / plain first page req/s, same user",
        lambda m: m.paired("search", "prefix", "plain"),
    ),
    Ratio(
        "sign-ins/s / (2 cores ÷ one hash), during reads",
        lambda m: m.of_two_cores("logins", "flood", "logins_per_second"),
    ),
    Ratio(
        "export of 100,000 notes: seconds to the last byte", lambda m: m("export", "service", "p50_ms") / 1000
    ),
    Ratio("export: size, MB", lambda m: m("export", "service", "megabytes")),
    Ratio(
        "export: largest rise of a worker's RSS while it streams, MiB",
        lambda m: m("export", "service", "rss_rise_mib"),
    ),
    Ratio(
        "export: largest rise of a worker's peak RSS (VmHWM), MiB",
        lambda m: m("export", "service", "hwm_rise_mib"),
    ),
    Ratio(
        "service-pg / original req/s, GET /api/notes c=64",
        lambda m: m.paired("api-c64", "service-pg", "original"),
    ),
    Ratio(
        "service / original req/s, GET /notes (HTML)",
        lambda m: m.paired("html-c64", "service", "original"),
    ),
    Ratio(
        "service / original req/s, POST /api/notes",
        lambda m: m.paired("post-c64", "service", "original"),
    ),
)


def ratios(results: Row) -> list[Row]:
    measured = Measured(results)
    return [ratio.judge(measured) for ratio in RATIOS]


def render(results: Row) -> str:
    """The table, the ratios and the notes, as Markdown (which also reads well as plain text)."""
    peak = {name: max(rss["workers_mib"], default=math.nan) for name, rss in results["rss"].items()}
    lines = [
        "| scenario | server | req/s | p50 ms | p99 ms | errors | peak RSS/worker MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in results["summary"]:
        lines.append(
            f"| {row['title']} | {row['label']} | {row['requests_per_second']:,.1f} | {row['p50_ms']:.2f} "
            f"| {row['p99_ms']:.2f} | {row['errors']} | {peak.get(row['server'], math.nan):.1f} |"
        )
    lines += ["", "| ratio | value | target | |", "|---|---:|---|---|"]
    for ratio in results["ratios"]:
        value = "n/a" if ratio["value"] is None else f"{ratio['value']:.2f}"
        verdict = {True: "met", False: "**not met**", None: ""}[ratio["met"]]
        lines.append(f"| {ratio['name']} | {value} | {ratio['goal']} | {verdict} |")
    bcrypt = results["bcrypt"]
    machine = results["machine"]
    lines += [
        "",
        f"One bcrypt_sha256 hash at cost {bcrypt['rounds']} took {bcrypt['one_hash_seconds'] * 1000:.0f} ms "
        f"here, so 2 cores can do {bcrypt['two_core_logins_per_second']:.2f} sign-ins/s"
        f"{_hash_range(results['runs'])}.",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, Python "
        f"{machine['python']}, {machine['wrk']}; commit {machine['commit']}; {results['command']} "
        f"({results['timing']['rounds']} round(s), medians).",
        *(f"Note: {note}" for note in results["notes"]),
    ]
    found = results.get("browser")  # bench/browser.py's section (runs from before it have none)
    if found is not None:
        lines += ["", "The browser app (python -m bench.browser):", ""]
        lines.append(f"skipped: {found['skipped']}" if "skipped" in found else browser_report.render(found))
    return "\n".join(lines)


def _hash_range(runs: list[Row]) -> str:
    """How long the hash took when timed again before each flood (the floods' own baselines)."""
    timed = [run["one_hash_seconds"] * 1000 for run in runs if "one_hash_seconds" in run]
    return f"; timed again before each flood: {min(timed):.0f}–{max(timed):.0f} ms" if timed else ""


def main() -> int:
    """`python -m bench.report [results.json]`: print a saved run's table again (ratios recomputed)."""
    import sys
    from pathlib import Path

    from .results import load

    saved, _ = load(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    saved["ratios"] = ratios(saved)
    print(render(saved))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
