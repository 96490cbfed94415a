"""Notes of hostile shapes, at any size: the pathological inputs that CommonMark's reference
implementations test against (cmark's test/pathological_tests.py, commonmark.js's test/test.js),
with GFM's and this service's own (tables, task lists, strikethrough, previews), each built to about
`size` characters so that render time can be compared across sizes."""

from __future__ import annotations

from collections.abc import Callable


def _repeat(unit: str, size: int) -> str:
    return unit * max(size // len(unit), 1)


def _around(opening: str, middle: str, closing: str, size: int) -> str:
    times = max(size // (len(opening) + len(closing)), 1)
    return opening * times + middle + closing * times


def _nested_list(size: int) -> str:
    lines, depth, total = [], 0, 0
    while total < size:
        line = "  " * depth + "* a\n"
        lines.append(line)
        total += len(line)
        depth += 1
    return "".join(lines)


def _references(size: int) -> str:
    definitions = _repeat_numbered("[{}]: u\n", size // 2)
    return definitions + _repeat("[0] ", size - len(definitions))


def _repeat_numbered(template: str, size: int) -> str:
    parts, total, number = [], 0, 1
    while total < size:
        part = template.format(number)
        parts.append(part)
        total += len(part)
        number += 1
    return "".join(parts)


def _backticks(size: int) -> str:
    parts, total, count = [], 0, 1
    while total < size:
        part = "e" + "`" * count
        parts.append(part)
        total += len(part)
        count += 1
    return "".join(parts)


CASES: dict[str, Callable[[int], str]] = {
    # cmark and commonmark.js
    "nested strong emph": lambda n: _around("*a **a ", "b", " a** a*", n),
    "emph closers with no openers": lambda n: _repeat("a_ ", n),
    "emph openers with no closers": lambda n: _repeat("_a ", n),
    "link closers with no openers": lambda n: _repeat("a]", n),
    "link openers with no closers": lambda n: _repeat("[a", n),
    "mismatched openers and closers": lambda n: _repeat("*a_ ", n),
    "openers and closers multiple of 3": lambda n: "a**b" + _repeat("c* ", n),
    "link openers and emph closers": lambda n: _repeat("[ a_", n),
    "nested brackets": lambda n: _around("[", "a", "]", n),
    "nested block quotes": lambda n: _repeat("> ", n) + "a",
    "deeply nested lists": _nested_list,
    "backticks": _backticks,
    "unclosed links A": lambda n: _repeat("[a](<b", n),
    "unclosed links B": lambda n: _repeat("[a](b", n),
    "many references": _references,
    "backslashes in a bracket": lambda n: "[" + "\\" * n + "\n",
    "empty links": lambda n: _repeat("[](", n),
    # the shapes that crashed or stalled this service (issue 20)
    "bare block quote marks": lambda n: ">" * n,
    "ordered list markers": lambda n: _repeat("1. ", n),
    "quoted list items": lambda n: _repeat("> - ", n),
    "bare brackets": lambda n: "[" * n,
    # inline and block nesting of every other kind
    "nested emphasis of both marks": lambda n: _around("*_", "a", "_*", n),
    "nested strikethrough": lambda n: _around("~~a ", "b", " a~~", n),
    "nested links and images": lambda n: _around("[![", "a", "](b)](c)", n),
    "bullet markers": lambda n: _repeat("- ", n),
    "task items in quotes": lambda n: _repeat("> - [ ] ", n),
    "list in quote in list": lambda n: _repeat("- > ", n),
    "fences": lambda n: _repeat("```\n", n),
    "html openers": lambda n: _repeat("<a ", n),
    "unclosed comments": lambda n: "</" + _repeat("<!--", n),
    "entities": lambda n: _repeat("&#", n),
    "autolink-like text": lambda n: _repeat("www.a", n),
    "table rows": lambda n: "|a|\n|-|\n" + _repeat("|b\n", n),
    "table columns": lambda n: _repeat("|a", n // 2) + "\n" + _repeat("|-", n // 2) + "\n|b|\n",
    "pipes": lambda n: "|" * n,
    "stars": lambda n: "*" * n,
    "line breaks": lambda n: _repeat("a  \n", n),
}
