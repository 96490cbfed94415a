"""A real nginx in front of several `serve` instances, for the benchmarks: plain HTTP on loopback.

The configuration is derived from the shipped deploy/nginx.conf, not written anew. Kept, copied from
that file as it stands (`shipped_parts` fails when it no longer has them): the `upstream
notes_service` block (keepalive 32, keepalive_timeout 60 s) with its one server replaced by the
instances, and everything the site's TLS server says about proxying: `proxy_http_version 1.1`, the
`Connection ""` and forwarding headers, `location /` with its 60 s read timeout, and the streams'
`location ~ ^/(api/)?events$` (proxy_buffering off, proxy_cache off, 75 s read timeout). Left out:
TLS and HTTP/2 (the load generator holds its streams on raw sockets, and what TLS costs is not what
is measured), the catch-all servers, the redacting access log (off: 4,000 log lines measure nothing
here), static files. Added: `X-Bench-Upstream: $upstream_addr` on every answer, so the benchmark
knows which instance took a write and which holds a stream; in the main context, worker_connections
and worker_rlimit_nofile for N streams as the shipped file's comment asks (2 connections a stream,
and room for all of them in one worker: the kernel does not split accepts evenly).

`tests/nginx.py` runs Debian's nginx.conf around the site with TLS; here the main context is ours,
because it must change worker_connections and the open-files limit, which the site file cannot.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.server import free_port

from .servers import ROOT, stop_group

NGINX = "/usr/sbin/nginx"
SHIPPED = ROOT / "deploy" / "nginx.conf"
UPSTREAM_HEADER = "X-Bench-Upstream"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WORKER_PROCESSES = 2


def shipped_parts(text: str) -> tuple[str, str]:
    """(the upstream block's body, the proxy settings and both locations) of deploy/nginx.conf."""
    upstream = re.search(r"^upstream notes_service \{\n(.*?)^\}", text, re.S | re.M)
    proxying = re.search(
        r"^( *proxy_http_version 1\.1;.*?location ~ \^/\(api/\)\?events\$ \{.*?\n *\})", text, re.S | re.M
    )
    if upstream is None or proxying is None:
        raise RuntimeError(f"{SHIPPED} no longer has the upstream or the events location this reads")
    if "server 127.0.0.1:8000;" not in upstream.group(1):
        raise RuntimeError(f"{SHIPPED}'s upstream no longer names 127.0.0.1:8000")
    return upstream.group(1), proxying.group(1)


def config(workdir: Path, app_ports: list[int], port: int, streams: int, text: str | None = None) -> str:
    """The nginx.conf of the benchmark: both instances behind one plain-HTTP server on `port`."""
    upstream, proxying = shipped_parts(SHIPPED.read_text() if text is None else text)
    servers = "\n    ".join(f"server 127.0.0.1:{app_port};" for app_port in app_ports)
    upstream = upstream.replace("server 127.0.0.1:8000;", servers)
    connections = 2 * streams + 1024
    temp = "".join(f"    {name}_temp_path {workdir / name};\n" for name in ("client_body", "proxy"))
    return (
        ("user root;\n" if os.geteuid() == 0 else "") + f"worker_processes {WORKER_PROCESSES};\n"
        f"worker_rlimit_nofile {2 * connections};\n"
        f"pid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'error.log'} warn;\n"
        "daemon off;\n"
        f"events {{\n    worker_connections {connections};\n}}\n"
        "http {\n"
        "    access_log off;\n"
        f"{temp}"
        f"    upstream notes_service {{\n{_indented(upstream)}\n    }}\n"
        "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        f"        add_header {UPSTREAM_HEADER} $upstream_addr always;\n"
        f"{_indented(proxying)}\n"
        "    }\n"
        "}\n"
    )


def _indented(block: str) -> str:
    return "\n".join(("    " + line) if line else line for line in block.splitlines())


class Nginx:
    """nginx in the foreground, in its own session, stopped by the PID we started."""

    def __init__(self, workdir: Path, app_ports: list[int], streams: int) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app_ports = app_ports
        self.streams = streams
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "nginx.conf"
        path.write_text(config(self.workdir, self.app_ports, self.port, self.streams))
        command = [NGINX, "-c", str(path), "-p", str(self.workdir), "-e", str(self.workdir / "error.log")]
        self.process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {self.log()[-2000:]}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url + "/", timeout=2, trust_env=False).status_code < 500
        except httpx.HTTPError:
            return False

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.process is None:
            return []
        found = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rpartition(")")[2].split()[1]) == self.process.pid:
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pids())

    def stop(self) -> None:
        """SIGTERM (nginx's fast shutdown: open streams are closed), then SIGKILL of its group."""
        if self.process is not None:
            stop_group(self.process, STOP_TIMEOUT)

    def log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (those gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def runqueue_wait_seconds(pids: list[int]) -> float:
    """Seconds these processes' main threads have spent runnable but waiting for a core
    (/proc/PID/schedstat's second field), those gone counting nothing."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9
