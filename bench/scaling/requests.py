"""A fixed number of each kind of request, each run announced with `ECHO phase-NAME` in Redis database 13.

bench/scaling/measure.sh watches Redis with MONITOR meanwhile and counts the commands of each phase.
Usage: python -m bench.scaling.requests BASE_URL TOKEN
"""

from __future__ import annotations

import re
import subprocess
import sys

import httpx

COUNT = 100
ACCOUNT = {"email": "cap@example.com", "password": "correct horse battery"}


def phase(name: str) -> None:
    command = ["redis-cli", "-n", "13", "ECHO", f"phase-{name}"]
    subprocess.run(command, check=True, capture_output=True)  # our own fixed command


def browser_sign_in(http: httpx.Client) -> None:
    http.cookies.clear()
    page = http.get("/login").text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, page
    response = http.post("/login", data={**ACCOUNT, "csrf_token": match.group(1)})
    assert response.status_code == 302, response.text


def main(base: str, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30) as http:
        phase("api-sign-in")
        for _ in range(COUNT):
            assert http.post("/api/token", json=ACCOUNT).status_code == 200
        phase("api-read")
        for _ in range(COUNT):
            assert http.get("/api/notes", headers=auth).status_code == 200
        phase("api-write")
        note = {"title": "t", "content": "c"}
        for _ in range(COUNT):
            assert http.post("/api/notes", json=note, headers=auth).status_code == 201
        phase("browser-sign-in")
        for _ in range(COUNT):
            browser_sign_in(http)
        phase("browser-page")
        for _ in range(COUNT):
            assert http.get("/notes").status_code == 200
        phase("end")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
