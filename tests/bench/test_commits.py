"""bench.commits: its table is the median of per-round after/before ratios, with cases the before
commit lacks compared with their stated baseline; no server is started here."""

from __future__ import annotations

from typing import Any

import pytest

from bench import commits

pytestmark = pytest.mark.sqlite_pass_only


def _run(round_number: int, scenario: str, side: str, rps: float) -> dict[str, Any]:
    return {
        "round": round_number,
        "database": "sqlite",
        "scenario": scenario,
        "side": side,
        "requests_per_second": rps,
        "p99_ms": 10.0,
        "errors": 0,
        "wrk_cores": 0.2,
        "server_cores": 1.5,
        "machine_cores": 1.9,
    }


def test_ratios_are_medians_of_per_round_ratios() -> None:
    runs = [
        _run(1, "api", "before", 100.0),
        _run(1, "api", "after", 90.0),
        _run(1, "changes", "after", 99.0),
        _run(1, "post", "before", 50.0),
        _run(1, "post-key", "after", 40.0),
        _run(2, "api", "before", 50.0),  # a slow round: the ratio still compares like with like
        _run(2, "api", "after", 60.0),
        _run(2, "changes", "after", 30.0),
        _run(3, "api", "before", 100.0),
        _run(3, "api", "after", 100.0),
        _run(3, "changes", "after", 100.0),
    ]
    rows = {row["title"]: row for row in commits.table(runs)}
    api = rows["GET /api/notes c=64"]
    assert api["ratios"] == [0.9, 1.2, 1.0]
    assert api["ratio"] == 1.0
    changes = rows["GET /api/changes?since=<latest> vs after's GET /api/notes c=64"]
    assert changes["ratios"] == [1.1, 0.5, 1.0]  # against the after side's own GET /api/notes
    keyed = rows["POST /api/notes + Idempotency-Key c=64 (vs before's plain POST)"]
    assert keyed["ratios"] == [0.8]
    assert "GET /notes (HTML) c=64" not in rows  # no runs, no row
    assert "sqlite" in commits.render(
        {"after": "b", "before": "a", "rounds": 3, "seconds": 3, "table": list(rows.values()), "notes": []}
    )


def test_idempotent_post_script_sends_a_new_key_per_request() -> None:
    script = commits.IDEMPOTENT_POST % {"body": commits.POST_BODY, "nonce": "abc"}
    assert 'headers["Idempotency-Key"] = "abc-" .. thread_id .. "-" .. counter' in script
    assert "wrk.format(nil, nil, headers, nil)" in script


def test_the_machine_is_busy_some_of_the_time() -> None:
    assert commits.machine_busy_seconds() > 0
