"""Run the real `notes-service serve` in a subprocess for end-to-end tests.

Each server gets its own working directory (where the development secret is generated), a database
URL, a free port on 127.0.0.1, and its own process group so a test can SIGKILL the whole server the
way a crash would. It is always stopped by the PIDs this module started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
CLI = str(BIN / "notes-service")
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_of(url: str) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


class Server:
    """One `notes-service serve` process tree."""

    def __init__(self, workdir: Path, database_url: str | None = None, **settings: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("NOTES_")}
        self.env.update(
            NOTES_DATABASE_URL=database_url or f"sqlite+aiosqlite:///{workdir / 'notes.db'}",
            NOTES_BCRYPT_ROUNDS="4",
            NOTES_AUTH_RATE_LIMIT="off",
            PYTHONUNBUFFERED="1",
        )
        self.env.update(settings)

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLI, *args],
            cwd=self.workdir,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self, *serve_args: str) -> Server:
        """Migrate, serve, and wait until /healthz answers."""
        upgrade = self.cli("db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        self._serve(*serve_args)
        return self.wait_ready()

    def wait_ready(self) -> Server:
        """Wait until the process started answers /healthz (fail the test if it dies first)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while status_of(f"{self.url}/healthz") != 200:
            assert self.process is not None
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"server did not start:\n{self.log()}")
            time.sleep(0.1)
        return self

    def exit_status(self, *serve_args: str, timeout: float = STARTUP_TIMEOUT) -> int:
        """Serve as configured (no migration) and return the status it exits with by itself."""
        process = self._serve(*serve_args)
        try:
            return process.wait(timeout)
        finally:
            self.kill()

    def _serve(self, *serve_args: str) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [CLI, "serve", "--bind", f"127.0.0.1:{self.port}", *serve_args],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.process

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM the supervisor only (as systemd's KillMode=mixed does) and wait for it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group: supervisor and workers, like a crash."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()
