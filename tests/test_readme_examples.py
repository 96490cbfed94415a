"""The examples in README.md and docs/*.md are real: their Python runs, and the files they name exist.

Each ```python block is one of two kinds:
- an **excerpt**, when its first line is a comment naming a file (`# notes_service/...py`): it must
  compile, and its lines must stand in that file in the same order, a line `...` standing for lines
  left out; so a page cannot show a function that is not there;
- a **program**, otherwise: it runs as it is, in a subprocess from a scratch directory, with the
  NOTES_* environment pointing at a freshly migrated SQLite database that a real `notes-service
  serve` is serving on a free port. The address a page gives for the service,
  `http://127.0.0.1:8000`, becomes that server's. The account the pages' examples sign in with
  (ada@example.com, made by the shell example before the Python one in docs/api.md) is registered
  through the API first.

Shell blocks (```sh) are not run: they install, serve and deploy (`make run`, systemd, nginx), which
a test cannot do in place; the commands they show are covered by the suite's own tests (test_cli.py,
tests/deploy/). Instead every file path written in backticks or linked in these pages must exist.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from tests.server import Server

pytestmark = pytest.mark.sqlite_pass_only

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
SERVICE_ADDRESS = "http://127.0.0.1:8000"
ACCOUNT = {"username": "ada", "email": "ada@example.com", "password": "correct horse battery"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXCERPT_OF = re.compile(r"# ([\w/.-]+\.py)\n")
PATH = re.compile(
    r"`([\w.-]+(?:/[\w.*{},-]+)*\.(?:py|sh|md|toml|conf|service|lua|html|js|css|png|ini|json|mako))`"
)
LINK = re.compile(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)")
# Names of files the service writes or sends, not files of the repository.
NOT_IN_REPOSITORY = {
    "notes-export.json",
    # written by runs
    *(
        f"bench/results/{kind}-*.json"
        for kind in ("bench", "browser", "commits", "streams", "streams-across")
    ),
}


class Block(NamedTuple):
    page: Path
    line: int
    language: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(language: str) -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            if match.group(1) == language:
                line = text.count("\n", 0, match.start()) + 1
                found.append(Block(page, line, language, match.group(2)))
    return found


PYTHON = blocks("python")
EXCERPTS = [block for block in PYTHON if EXCERPT_OF.match(block.code)]
PROGRAMS = [block for block in PYTHON if not EXCERPT_OF.match(block.code)]


def test_the_pages_have_python_examples() -> None:
    assert EXCERPTS, "the README shows a route as it is in the code"
    assert PROGRAMS, "docs/api.md and docs/architecture.md show programs"


@pytest.mark.parametrize("block", EXCERPTS, ids=lambda block: block.name)
def test_excerpt_is_in_its_file(block: Block) -> None:
    match = EXCERPT_OF.match(block.code)
    assert match is not None
    source = ROOT / match.group(1)
    assert source.is_file(), f"{block.name} quotes {match.group(1)}, which does not exist"
    compile(block.code, block.name, "exec")
    lines = source.read_text().splitlines()
    at = 0
    for piece in _pieces(block.code[match.end() :]):
        found = _find(lines, piece, at)
        shown = "\n".join(piece)
        assert found is not None, f"{block.name}: not in {match.group(1)} (in this order):\n{shown}"
        at = found + len(piece)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("examples")).start() as running:
        response = httpx.post(f"{running.url}/api/users", json=ACCOUNT)
        assert response.status_code == 201, response.text
        yield running


@pytest.mark.parametrize("block", PROGRAMS, ids=lambda block: block.name)
def test_program_runs(block: Block, server: Server, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(block.code.replace(SERVICE_ADDRESS, server.url))
    env = {**server.env, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{block.name} failed:\n{result.stdout}\n{result.stderr}\n{server.log()}"


def test_every_path_the_pages_name_exists() -> None:
    missing = []
    for page in PAGES:
        text = page.read_text()
        for path in PATH.findall(text):
            places = (ROOT, ROOT / "notes_service", page.parent)
            if path not in NOT_IN_REPOSITORY and not any(any(place.glob(path)) for place in places):
                missing.append(f"{page.relative_to(ROOT)}: `{path}`")
        for path in LINK.findall(re.sub(r"`[^`\n]*`", "", text)):
            if not (page.parent / path).exists():
                missing.append(f"{page.relative_to(ROOT)}: link to {path}")
    assert not missing, "\n".join(missing)


def _pieces(code: str) -> list[list[str]]:
    """The excerpt's runs of consecutive lines, split at its `...` lines."""
    pieces: list[list[str]] = [[]]
    for line in code.splitlines():
        if line.strip() == "...":
            pieces.append([])
        else:
            pieces[-1].append(line)
    return [piece for piece in pieces if piece]


def _find(lines: list[str], piece: list[str], start: int) -> int | None:
    for at in range(start, len(lines) - len(piece) + 1):
        if lines[at : at + len(piece)] == piece:
            return at
    return None
