"""bench.browser in a tiny run (20 notes, 3 opens, one query), so that it cannot rot as the app
changes: every figure of issue 23 comes out, with its row in the table. No wall time is asserted —
what the figures are is the benchmark's business, not the suite's."""

from __future__ import annotations

import dataclasses

import pytest

from bench import browser, browser_report
from tests.databases import BACKEND
from tests.helpers import unavailable

TINY = dataclasses.replace(
    browser.QUICK,
    list_notes=20,
    search_notes=40,
    opens=3,
    bursts=2,
    burst_keys=3,
    save_delay_ms=700,  # the second burst (3 keys, 90 ms apart) is typed while the first one's save is held
    queries=("plumbers",),
    search_rounds=1,
    workers=1,  # starts sooner
)


def test_a_tiny_run_gives_every_figure() -> None:
    if BACKEND == "postgresql":
        pytest.skip("the browser bench serves SQLite: it ran in the SQLite pass")
    reason = browser.missing()
    if reason:
        unavailable(reason)
    outcome = browser.run(TINY, quick=True)
    summary = outcome["summary"]
    assert summary["open"]["to_frame"]["n"] == 3
    assert summary["open"]["server"]["n"] == 3  # the note's request was found in Resource Timing
    held = summary["typing"]["700"]
    assert held["kept"] and summary["typing"]["0"]["kept"]  # everything typed reached the server
    assert held["while_saving"]["n"] > 0  # keys were typed while a save was away
    assert summary["search"]["to_frame"]["n"] == 1
    assert summary["search"]["own_request"]["n"] == 1
    assert summary["scripts"]["files"] >= 6 and summary["scripts"]["gzip_bytes"] > 0
    assert outcome["raw"]["scripts"]["files"]["/static/app/main.js"]["bytes"] > 0
    assert summary["elsewhere"] == 0 and summary["page_errors"] == 0, outcome["raw"]["page_errors"]
    assert summary["csp_violations"] == 0
    table = browser_report.render(outcome)
    for row in ("open a note", "typing", "search as one types", "JavaScript", "another host"):
        assert row in table
