"""`python -m bench.chart [results.json]`: draw a results file as a PNG next to it, for docs/performance.md.

Two panels share one row per case: median req/s and median p99 latency, colored by server, so each
case sits next to its baselines exactly as it was measured. Defaults to the newest results file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI

import matplotlib.pyplot as plt  # the backend must be chosen first

from .results import load

COLORS = {
    "service": "#2b6cb0",
    "service-pg": "#63b3ed",
    "original": "#c05621",
    "ceiling": "#718096",
    "fastapi": "#2f855a",
}


def draw(results: dict[str, Any], path: Path) -> None:
    rows = list(reversed(results["summary"]))  # barh draws bottom-up; keep the table's order
    labels = [f"{row['title']} · {row['label']}" for row in rows]
    colors = [COLORS.get(row["server"], "#a0aec0") for row in rows]
    figure, (rates, tails) = plt.subplots(
        1, 2, figsize=(15, 0.34 * len(rows) + 1.6), sharey=True, gridspec_kw={"width_ratios": [3, 2]}
    )
    rates.barh(labels, [row["requests_per_second"] for row in rows], color=colors)
    rates.set_xscale("log")
    rates.set_xlabel("requests/s (median, log scale)")
    tails.barh(labels, [row["p99_ms"] for row in rows], color=colors)
    tails.set_xscale("log")
    tails.set_xlabel("p99 latency, ms (median, log scale)")
    for axis in (rates, tails):
        axis.grid(axis="x", which="both", alpha=0.3)
        axis.tick_params(axis="y", labelsize=8)
    machine = results["machine"]
    figure.suptitle(
        f"notes-service vs baselines — {machine['cpu']}, {machine['cores']} cores, "
        f"Python {machine['python']}, commit {machine['commit']}, {results['timing']['rounds']} round(s)",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> int:
    results, source = load(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    target = source.with_suffix(".png")
    draw(results, target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
