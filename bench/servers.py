"""Start, inspect and stop the servers under test: the service and its baselines (original, ceiling, fastapi).

Each server runs in its own session (so a Ctrl-C in the terminal reaches only the benchmark, which then
stops it), binds 127.0.0.1 on a free port, logs to a file in its own working directory, and is stopped
by the PID we started: SIGTERM, then SIGKILL of its process group if anything is left. Peak RSS is read
from /proc (VmHWM) for each worker, i.e. each child of the server's main process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.server import free_port
from tests.server import status_of as http_status

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKERS = 2
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# Helper processes that multiprocessing starts next to the workers; they serve no requests.
NOT_WORKERS = ("resource_tracker", "semaphore_tracker", "forkserver")


class Server:
    """One server process tree that the benchmark started and will stop."""

    def __init__(
        self, name: str, workdir: Path, command: list[str], env: dict[str, str], workers: int = WORKERS
    ) -> None:
        self.name = name
        self.expected_workers = workers
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [part.format(bind=f"127.0.0.1:{self.port}", port=self.port) for part in command]
        self.env = env
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.initial_workers: list[int] = []

    def launch(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        """Wait until the server answers HTTP and all its workers are up."""
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while http_status(self.url + "/") is None or len(self.workers()) < self.expected_workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; its log:\n{self.log()[-4000:]}")
            time.sleep(0.1)
        self.initial_workers = self.workers()

    def workers(self) -> list[int]:
        """PIDs of the main process's children that serve requests."""
        if self.process is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            parent = int(stat.rpartition(")")[2].split()[1])
            if parent == self.process.pid and not any(name in cmdline for name in NOT_WORKERS):
                found.append(int(entry.name))
        return sorted(found)

    def peak_rss(self) -> dict[str, object]:
        """Each worker's peak RSS (VmHWM) and private memory now, the PSS of the whole process tree
        (memory shared between processes counted once), and whether a worker was replaced (its
        peak would be lost)."""
        current = self.workers()
        return {
            "workers_mib": [round(status_mib(pid, "VmHWM"), 1) for pid in current],
            **self.memory(current),
            "workers_replaced": current != self.initial_workers,
        }

    def memory(self, current: list[int] | None = None) -> dict[str, object]:
        """Each worker's private memory now, and the PSS of the whole process tree (memory shared
        between processes counted once, in shares), from /proc/PID/smaps_rollup, in MiB."""
        current = self.workers() if current is None else current
        private = []
        for pid in current:
            rollup = _smaps_rollup(pid)
            private.append(round((rollup["Private_Clean"] + rollup["Private_Dirty"]) / 1024, 1))
        main = self.process.pid if self.process else None
        pss = sum(_smaps_rollup(pid)["Pss"] for pid in ([main] if main else []) + current) / 1024
        return {"workers_private_mib": private, "tree_pss_mib": round(pss, 1)}

    def stop(self) -> None:
        """SIGTERM our PID, then SIGKILL its process group (workers included) if it lingers."""
        if self.process is not None:
            stop_group(self.process, STOP_TIMEOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def status_mib(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status in MiB: VmRSS now, or VmHWM (the peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no {field} in /proc/{pid}/status")


def _smaps_rollup(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup in kB: Pss, Private_Clean, Private_Dirty, ..."""
    figures = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        figures[name] = int(value.split()[0])
    return figures


def service_env(database_url: str, secret_key: str, bcrypt_rounds: int) -> dict[str, str]:
    """The service's environment: ours minus any NOTES_* of the caller, plus the benchmark's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTES_")}
    env.update(
        NOTES_DATABASE_URL=database_url,
        NOTES_SECRET_KEY=secret_key,
        NOTES_BCRYPT_ROUNDS=str(bcrypt_rounds),
        NOTES_AUTH_RATE_LIMIT="off",
        PYTHONUNBUFFERED="1",
    )
    return env


def migrate(workdir: Path, env: dict[str, str]) -> None:
    """`notes-service db upgrade`: the schema the seeder writes into is the real migrated one."""
    workdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(BIN / "notes-service"), "db", "upgrade"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"notes-service db upgrade failed:\n{done.stderr}")


def service(name: str, workdir: Path, env: dict[str, str], workers: int = WORKERS) -> Server:
    """`notes-service serve`, 2 workers unless told (it picks uvloop and reads hypercorn.toml)."""
    command = [str(BIN / "notes-service"), "serve", "--bind", "{bind}", "--workers", str(workers)]
    return Server(name, workdir, command, env, workers)


def original(workdir: Path, database: Path) -> Server:
    """The Flask original under gunicorn with 2 sync workers, as it was deployed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), BENCH_ORIGINAL_DATABASE=str(database))
    command = [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", "{bind}", "bench.baselines.original:app"]
    return Server("original", workdir, command, env)


def ceiling(workdir: Path) -> Server:
    """The bare Quart app under the service's own server: `notes-service serve --app`, 2 workers."""
    command = [str(BIN / "notes-service"), "serve", "--app", "bench.baselines.ceiling:app"]
    command += ["--bind", "{bind}", "--workers", str(WORKERS)]
    return Server("ceiling", workdir, command, dict(os.environ, PYTHONPATH=str(ROOT)))


def fastapi(workdir: Path, database: Path) -> Server:
    """The FastAPI baseline under uvicorn as its docs deploy it: 2 workers, uvloop and httptools."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), BENCH_FASTAPI_DATABASE=str(database))
    command = [
        str(BIN / "uvicorn"),
        "--workers",
        str(WORKERS),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "bench.baselines.fastapi_app:app",
    ]
    return Server("fastapi", workdir, command, env)


def stop_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM `process`, wait up to `timeout`, then SIGKILL its process group (its children too)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout)
