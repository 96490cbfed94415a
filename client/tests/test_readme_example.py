"""The root README's "For API consumers" example runs, as written, against a real server.

How: the first ```python block under the `## For API consumers` heading of README.md is cut out
of the page (so the page cannot drift from what is tested), the address it names
(`http://127.0.0.1:8000`) is replaced by the test server's, the account it signs in with
(ada@example.com) is registered first, and the program runs in a subprocess; then the note it
says it created must exist, and its listing must show it. (The repository's own
tests/test_readme_examples.py runs every README program too; this test also checks what it did.)
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from support import FAST
from tests.server import Server

from notes_client import NotesClient

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## For API consumers"
ADDRESS = "http://127.0.0.1:8000"
EMAIL, PASSWORD = "ada@example.com", "correct horse battery"


def example() -> str:
    section = README.read_text().split(f"\n{HEADING}\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert found, f"no python block under {HEADING!r} in {README}"
    return found.group(1)


async def test_the_example_runs_against_a_real_server(server: Server, tmp_path: Path) -> None:
    code = example()
    assert ADDRESS in code and EMAIL in code
    script = tmp_path / "example.py"
    script.write_text(code.replace(ADDRESS, server.url))
    async with NotesClient(server.url, retry=FAST) as client:
        await client.register("ada", EMAIL, PASSWORD)
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        first, *listed = done.stdout.splitlines()
        _, note_id, etag = first.split()
        await client.login(EMAIL, PASSWORD)
        note = await client.get_note(int(note_id))
        assert (note.title, note.content, note.etag) == ("Groceries", "eggs, milk", etag)
        assert listed == [f"{note.id} Groceries"]
