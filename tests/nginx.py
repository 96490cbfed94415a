"""nginx for end-to-end tests: the shipped deploy/nginx.conf on loopback ports, in the foreground.

It runs inside Debian's own /etc/nginx/nginx.conf, included in its `http {}` block as a file of
sites-enabled is, so that what Debian sets there (the `combined` access log above all) applies as in
production. Only what must differ on a test machine is rewritten: ports, a self-signed certificate,
every file nginx writes (pid, logs, temp files) into the test's directory, and the site's name
(`localhost` for notes.example.com); the `upstream` lists the service instances the test started,
one for a single host, several for hosts behind one proxy.
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
DEBIAN_CONF = Path("/etc/nginx/nginx.conf")  # as the nginx package installs it
# The logs, in the directory given to `running_nginx`: the site's own access log (deploy/nginx.conf),
# Debian's default one (`combined`, for whatever no server of the site logs itself) and the error log.
SITE_ACCESS_LOG, DEBIAN_ACCESS_LOG, ERROR_LOG = "notes-service.access.log", "access.log", "error.log"
SITE = "localhost"  # the name nginx serves the site under in these tests
START_TIMEOUT = 15.0


def require_nginx() -> None:
    """Skip (or fail under NOTES_TEST_REQUIRE_SERVICES=1) without nginx, its nginx.conf and openssl."""
    if not Path(NGINX).exists() or not DEBIAN_CONF.exists() or shutil.which("openssl") is None:
        unavailable("nginx and openssl (apt-get install nginx)")


def nginx_config(tmp_path: Path, app_ports: list[int], https_port: int, http_port: int) -> Path:
    """Debian's nginx.conf including deploy/nginx.conf, with loopback ports, an upstream of
    `app_ports`, a self-signed certificate and every path in `tmp_path`."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    upstream = "\n    ".join(f"server 127.0.0.1:{port};" for port in app_ports)
    site = _rewritten(
        (ROOT / "deploy" / "nginx.conf").read_text(),
        "deploy/nginx.conf",
        {
            "server 127.0.0.1:8000;": upstream,
            "listen 80": f"listen 127.0.0.1:{http_port}",
            "listen 443": f"listen 127.0.0.1:{https_port}",
            "server_name notes.example.com;": f"server_name {SITE};",
            "/etc/letsencrypt/live/notes.example.com/fullchain.pem": str(tmp_path / "cert.pem"),
            "/etc/letsencrypt/live/notes.example.com/privkey.pem": str(tmp_path / "key.pem"),
            "/srv/notes-service/notes_service/static/": f"{ROOT}/notes_service/static/",
            "/var/log/nginx/": f"{tmp_path}/",  # every log the site writes
        },
    )
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (tmp_path / "sites-enabled").mkdir()
    (tmp_path / "sites-enabled" / "notes-service").write_text(site)
    temp_paths = {name: tmp_path / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    main = _rewritten(
        DEBIAN_CONF.read_text(),
        str(DEBIAN_CONF),
        {
            # Workers as root can read the test's files (pytest's temp directories are private).
            "user www-data;": "user root;" if os.geteuid() == 0 else "",
            "pid /run/nginx.pid;": f"daemon off;\npid {tmp_path}/nginx.pid;",
            f"error_log /var/log/nginx/{ERROR_LOG};": f"error_log {tmp_path}/{ERROR_LOG};",
            f"access_log /var/log/nginx/{DEBIAN_ACCESS_LOG};": f"access_log {tmp_path}/{DEBIAN_ACCESS_LOG};",
            "http {": "http {\n"
            + "".join(f"\t{name}_temp_path {path};\n" for name, path in temp_paths.items()),
            "include /etc/nginx/conf.d/*.conf;": "",  # this machine's own sites stay out
            "include /etc/nginx/sites-enabled/*;": f"include {tmp_path}/sites-enabled/*;",
        },
    )
    config = tmp_path / "nginx.conf"
    config.write_text(main)
    return config


def _rewritten(text: str, name: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"{name} no longer has {old!r}"
        text = text.replace(old, new)
    return text


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
