"""`serve` raises its open-files limit before forking (a worker holds one descriptor per stream)."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import pytest

from tests.server import CLI, Server

pytestmark = pytest.mark.sqlite_pass_only

LOW = 256


def test_serve_raises_a_low_soft_limit_to_the_hard_one_and_says_so(tmp_path: Path) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= LOW:
        raise AssertionError(f"this machine's hard open-files limit ({hard}) is too low to test")
    server = Server(tmp_path)
    assert server.cli("db", "upgrade").returncode == 0
    # The shell lowers the soft limit, then becomes `serve`; a worker's limit is read from /proc.
    script = f"ulimit -S -n {LOW} && exec {CLI} serve --bind 127.0.0.1:{server.port}"
    with server:
        server.process = subprocess.Popen(
            ["sh", "-c", script], cwd=tmp_path, env=server.env, stdout=server.log_path.open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        server.wait_ready()
        expected = hard if hard != resource.RLIM_INFINITY else 1 << 20
        assert f"event=open_files_limit from={LOW} to={expected}" in server.log()
        limits = Path(f"/proc/{server.process.pid}/limits").read_text()
        (line,) = [line for line in limits.splitlines() if line.startswith("Max open files")]
        assert int(line.split()[3]) == expected
