"""Where two texts differ, by line and then by word, for the edit-conflict page (SPEC §9, §11).

A person whose save was refused needs to see what the other save changed before choosing to keep
their own text. Lines are compared first (so a moved paragraph reads as lines, not a word soup);
lines changed in place are compared word by word. The result is a list of plain-text pieces marked
"same", "del" (only in the current version) or "ins" (only in the person's text): the template
escapes and marks them (`<del>`, `<ins>`), so no HTML is made here. Python's difflib is enough: the
texts are one note each (at most `rules.CONTENT_MAX` characters), compared once per refused save.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal, NamedTuple

Kind = Literal["same", "del", "ins"]
# A word, a run of spaces, or one other character: joining the tokens gives the text back.
TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
REWRITTEN = 0.5


class Piece(NamedTuple):
    """A run of text and whether it is in both versions, only the current one, or only the person's."""

    kind: Kind
    text: str


def diff_pieces(current: str, yours: str) -> list[Piece]:
    """The pieces that read as `current` when "ins" is skipped and as `yours` when "del" is (line
    ends made "\n" first: a browser sends "\r\n", and that difference is no one's edit)."""
    old_lines = current.replace("\r\n", "\n").splitlines(keepends=True)
    new_lines = yours.replace("\r\n", "\n").splitlines(keepends=True)
    pieces: list[Piece] = []
    # Lines are compared without their ends, so a last line without "\n" still matches itself.
    matcher = SequenceMatcher(None, _bare(old_lines), _bare(new_lines), autojunk=False)
    for op, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        old = "".join(old_lines[old_start:old_end])
        new = "".join(new_lines[new_start:new_end])
        if op == "equal" and old == new:
            _add(pieces, "same", old)
        elif op in {"equal", "replace"}:
            _words(pieces, old, new)
        else:
            _add(pieces, "del", old)
            _add(pieces, "ins", new)
    return pieces


def _bare(lines: list[str]) -> list[str]:
    return [line.rstrip("\n") for line in lines]


def _no_spaces(tokens: list[str]) -> list[str]:
    return [token for token in tokens if not token.isspace()]


def _words(pieces: list[Piece], old: str, new: str) -> None:
    """Lines changed in place, compared word by word; lines rewritten rather than edited (fewer than
    half their words in common) are shown whole, as a word soup of shared "the"s helps no one."""
    old_tokens, new_tokens = TOKEN.findall(old), TOKEN.findall(new)
    words = SequenceMatcher(None, _no_spaces(old_tokens), _no_spaces(new_tokens), autojunk=False)
    if words.ratio() < REWRITTEN:
        _add(pieces, "del", old)
        _add(pieces, "ins", new)
        return
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for op, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if op == "equal":
            _add(pieces, "same", "".join(old_tokens[old_start:old_end]))
        else:
            _add(pieces, "del", "".join(old_tokens[old_start:old_end]))
            _add(pieces, "ins", "".join(new_tokens[new_start:new_end]))


def _add(pieces: list[Piece], kind: Kind, text: str) -> None:
    """Append, joining a run of the same kind (fewer marks for the eye to follow)."""
    if not text:
        return
    if pieces and pieces[-1].kind == kind:
        pieces[-1] = Piece(kind, pieces[-1].text + text)
    else:
        pieces.append(Piece(kind, text))
