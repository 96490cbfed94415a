"""The conflict page's differences: by line, then by word, and always both texts back."""

from __future__ import annotations

import pytest

from notes_service.render.diffs import Piece, diff_pieces

pytestmark = pytest.mark.sqlite_pass_only


def sides(pieces: list[Piece]) -> tuple[str, str]:
    """The current text (skip "ins") and the person's (skip "del"), put back together."""
    current = "".join(piece.text for piece in pieces if piece.kind != "ins")
    yours = "".join(piece.text for piece in pieces if piece.kind != "del")
    return current, yours


def test_a_word_changed_in_a_line_is_marked_alone() -> None:
    pieces = diff_pieces("milk\nbuy eggs and bread\ntea\n", "milk\nbuy eggs and butter\ntea\n")
    assert pieces == [
        Piece("same", "milk\nbuy eggs and "),
        Piece("del", "bread"),
        Piece("ins", "butter"),
        Piece("same", "\ntea\n"),
    ]


def test_lines_added_and_removed_are_whole_lines() -> None:
    pieces = diff_pieces("one\ntwo\nthree", "one\nthree\nfour")
    assert Piece("del", "two\n") in pieces
    assert [piece for piece in pieces if piece.kind == "ins"] == [Piece("ins", "\nfour")]


def test_line_ends_from_a_browser_are_no_change() -> None:
    assert diff_pieces("a\nb\n", "a\r\nb\r\n") == [Piece("same", "a\nb\n")]


@pytest.mark.parametrize(
    ("current", "yours"),
    [
        ("", "new text"),
        ("old text", ""),
        ("same", "same"),
        ("<b>x</b> & y\n\n- [ ] task", "<i>x</i> & z\n- [x] task\nmore"),
        ("Ünïcödé wörds ✓\nzweite", "Ünïcödé words ✓\nzweite Zeile"),
    ],
)
def test_both_texts_can_be_read_back(current: str, yours: str) -> None:
    assert sides(diff_pieces(current, yours)) == (current, yours)


def test_a_line_rewritten_rather_than_edited_is_shown_whole() -> None:
    pieces = diff_pieces("saved in the first tab", "my words from the second tab")
    assert pieces == [Piece("del", "saved in the first tab"), Piece("ins", "my words from the second tab")]
