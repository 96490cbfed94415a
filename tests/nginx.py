"""nginx for end-to-end tests: the shipped deploy/nginx.conf on loopback ports, in the foreground.

Only what must differ on a test machine is rewritten (ports, a self-signed certificate, temp paths,
and the site's name: `localhost` for notes.example.com); the `upstream` lists the service instances
the test started, one for a single host, several for hosts behind one proxy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import unavailable
from tests.server import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = "localhost"  # the name nginx serves the site under in these tests
START_TIMEOUT = 15.0


def require_nginx() -> None:
    """Skip (or fail under NOTES_TEST_REQUIRE_SERVICES=1) without nginx and openssl."""
    if not Path(NGINX).exists() or shutil.which("openssl") is None:
        unavailable("nginx and openssl (apt-get install nginx)")


def nginx_config(tmp_path: Path, app_ports: list[int], https_port: int, http_port: int) -> Path:
    """deploy/nginx.conf with loopback ports, an upstream of `app_ports`, a self-signed certificate
    and temp paths."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = "\n    ".join(f"server 127.0.0.1:{port};" for port in app_ports)
    replacements = {
        "server 127.0.0.1:8000;": upstream,
        "listen 80": f"listen 127.0.0.1:{http_port}",
        "listen 443": f"listen 127.0.0.1:{https_port}",
        "server_name notes.example.com;": f"server_name {SITE};",
        "/etc/letsencrypt/live/notes.example.com/fullchain.pem": str(tmp_path / "cert.pem"),
        "/etc/letsencrypt/live/notes.example.com/privkey.pem": str(tmp_path / "key.pem"),
        "/srv/notes-service/notes_service/static/": f"{ROOT}/notes_service/static/",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx.conf no longer has {old!r}"
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    temp_paths = {name: tmp_path / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\nevents {{ worker_connections 256; }}\n"
        "http {\n  include /etc/nginx/mime.types;\n  access_log off;\n"
        + "".join(f"  {name}_temp_path {path};\n" for name, path in temp_paths.items())
        + f"{site}\n}}\n"
    )
    return config


@contextmanager
def running_nginx(tmp_path: Path, app_ports: list[int]) -> Iterator[tuple[str, str]]:
    """(https URL, plain http URL) of nginx in front of the services on `app_ports`; stopped after."""
    https_port, http_port = free_port(), free_port()
    config = nginx_config(tmp_path, app_ports, https_port, http_port)
    nginx = subprocess.Popen(
        [NGINX, "-c", str(config), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")]
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while _redirect_status(f"http://{SITE}:{http_port}/") != 301:
            if nginx.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nginx did not start: {(tmp_path / 'error.log').read_text()}")
            time.sleep(0.1)
        yield f"https://{SITE}:{https_port}", f"http://{SITE}:{http_port}"
    finally:
        nginx.terminate()
        nginx.wait(10)


def _redirect_status(url: str) -> int | None:
    try:
        return httpx.get(url, follow_redirects=False, timeout=2).status_code
    except httpx.HTTPError:
        return None


def client(base_url: str, **options: object) -> httpx.Client:
    """An HTTP client that accepts the tests' self-signed certificate."""
    return httpx.Client(base_url=base_url, verify=False, timeout=10, **options)  # noqa: S501 - our own cert
