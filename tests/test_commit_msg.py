"""The repository's commit-msg hook: subjects of at most 72 characters, the detail in the body; and
`make hooks` (run by `make install` and when the venv is made) turns it on only in a git checkout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_pass_only

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / ".githooks" / "commit-msg"
GOOD = "Trash: restore keeps the note's version (issue 12)\n\nThe detail, as long as it needs.\n"


def run_hook(tmp_path: Path, message: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message)
    return subprocess.run([str(HOOK), str(path)], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    "message",
    [
        GOOD,
        "x" * 72 + "\n",
        "A subject alone\n",
        "é" * 72 + "\n\ncharacters count, not bytes\n",
        "\n# Please enter the commit message\nShort subject\n\n# comment\nbody\n",
        "Short subject\n# ------------------------ >8 ------------------------\ndiff --git a/x b/x\n",
        "fixup! " + "x" * 72 + "\n",
        "Merge branch 'a-rather-long-branch-name-for-the-issue-21-docs' into main-line-of-work\n",
        "# only comments: git refuses it by itself\n",
    ],
)
def test_hook_accepts(tmp_path: Path, message: str) -> None:
    result = run_hook(tmp_path, message)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_hook_refuses_a_long_subject(tmp_path: Path) -> None:
    result = run_hook(tmp_path, "x" * 73 + "\n\nbody\n")
    assert result.returncode == 1
    assert "the subject is 73 characters; keep it to 72 and put the detail in the body" in result.stderr


def test_hook_refuses_a_body_without_a_blank_line(tmp_path: Path) -> None:
    # git would show both lines joined as the subject
    result = run_hook(tmp_path, "Short subject\nand the body right under it\n")
    assert result.returncode == 1
    assert "leave a blank line between the subject and the body" in result.stderr


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None, reason="needs make and git")
def test_make_hooks_turns_the_hook_on_in_a_checkout_only(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copytree(ROOT / ".githooks", tmp_path / ".githooks")

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
        return subprocess.run(["git", *identity, *args], cwd=tmp_path, capture_output=True, text=True)

    make = ["make", "--no-print-directory", "-s", "hooks"]
    assert subprocess.run(make, cwd=tmp_path, capture_output=True, timeout=30).returncode == 0  # no git
    assert git("init", "-q").returncode == 0
    assert git("config", "core.hooksPath").stdout == ""
    assert subprocess.run(make, cwd=tmp_path, capture_output=True, timeout=30).returncode == 0
    assert git("config", "core.hooksPath").stdout.strip() == ".githooks"
    assert git("add", "Makefile").returncode == 0
    refused = git("commit", "-q", "-m", "x" * 73)
    assert refused.returncode != 0
    assert "keep it to 72" in refused.stderr
    assert git("commit", "-q", "-m", GOOD).returncode == 0
    assert git("log", "--format=%s").stdout.strip() == GOOD.splitlines()[0]
