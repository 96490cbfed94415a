"""A memory probe that cannot be taken leaves a note in the run instead of losing the whole run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import memory, seed
from bench.scenarios import Timing
from bench.servers import Server

pytestmark = pytest.mark.sqlite_pass_only


async def test_a_failed_memory_probe_becomes_a_note(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async def fails(*_args: object) -> list[dict[str, object]]:
        raise RuntimeError("3 errors in 40 requests: not a load to measure after")

    monkeypatch.setattr(memory, "by_workers", fails)
    service = Server("service", tmp_path, ["true"], {})
    notes: list[str] = []
    records = await bench_main.measure_memory(tmp_path, service, seed.make_dataset(), Timing.quick(), notes)
    assert records == []
    assert notes == [
        "memory by worker count not measured: 3 errors in 40 requests: not a load to measure after"
    ]
