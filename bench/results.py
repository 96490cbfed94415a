"""Raw results on disk: one JSON file per run under bench/results/ (git-ignored), with the machine.

Absolute numbers are only comparable on the same machine, so each file records what it ran on: CPU
model, cores, memory, kernel, Python, wrk, and the commit being measured.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROOT = RESULTS_DIR.parent.parent


def machine() -> dict[str, Any]:
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(_proc_field("/proc/meminfo", "MemTotal").split()[0]) / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": _output(["wrk", "--version"]).splitlines()[0].split(" [")[0],
        "commit": _output(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]).strip(),
    }


def _proc_field(path: str, name: str) -> str:
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return ""


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "unknown"
    return done.stdout or done.stderr or "unknown"


def save(results: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"bench-{stamp}{'-quick' if results['quick'] else ''}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def load(path: Path | None = None) -> tuple[dict[str, Any], Path]:
    """A results file; by default the newest one."""
    if path is None:
        found = sorted(RESULTS_DIR.glob("bench-*.json"), key=lambda candidate: candidate.stat().st_mtime)
        if not found:
            raise SystemExit(f"no results in {RESULTS_DIR}; run `make bench` first")
        path = found[-1]
    return json.loads(path.read_text()), path
