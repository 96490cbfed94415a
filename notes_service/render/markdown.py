"""Markdown for the note page, safely (SPEC §9, §11); plain text for previews and excerpts.

cmark-gfm (GitHub's fork of cmark, the CommonMark reference implementation in C, through cmarkgfm)
parses CommonMark with GFM tables, strikethrough, task lists and bare-URL links. It was chosen
because it holds against hostile input (SPEC §6): it is iterative (no recursion a deep note can
overflow), fuzzed, and tested by its authors against CommonMark's pathological inputs, which it
parses in linear time. markdown-it-pyrs, used before, crashed the worker with SIGSEGV on `">" * 100000`
and took 6 s on 14,000 link reference definitions; markdown-it-py holds but took 1 s on 100,000 `[`.
Measured on this machine, a 2 KB note renders in 0.07 ms (markdown-it-pyrs: 0.1).

Raw HTML is off: it shows as the text it is (`<b>` on the page is `<b>`, as in a code block), and
cmark's safe mode blanks `javascript:`, `vbscript:`, `file:` and `data:` links, which become plain
text here. Images become a `!` and a link to the image (the page's CSP would refuse
other sites' images anyway). A line break shows as typed (hard breaks).

Two bounds keep every note's page linear and safe. cmark-gfm caps list nesting but not block quotes
or inline nesting, and the HTML sanitizer's cost grows with nesting depth × size (100,000 nested
block quotes took it 70 s); so HTML nested deeper than `MAX_DEPTH` elements, which no real note is,
is shown as plain text instead. Defence in depth: nh3 (ammonia) then keeps only an allow-list of
tags and attributes, only http/https/mailto and relative links, gives every link
`rel="nofollow noopener noreferrer"`, and makes every task-list checkbox read-only.

A note's HTML is made when the note is written and stored beside its content with the `RENDERER`
that made it; the page shows the stored HTML when that is the running renderer, and otherwise
renders the content as it is shown. `notes-service render-notes` brings every stored copy up to date.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import lru_cache
from importlib.metadata import version
from typing import Any

import nh3
from cmarkgfm import cmark
from markupsafe import Markup, escape

PREVIEW_LENGTH = 200
MAX_DEPTH = 64
EXTENSIONS = ["table", "strikethrough", "tasklist", "autolink"]
OPTIONS = cmark.Options.CMARK_OPT_HARDBREAKS | cmark.Options.CMARK_OPT_VALIDATE_UTF8
TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "input",
    "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "input": {"type", "checked", "disabled"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}  # `align`, not `style`: an inline style would be refused by the page's CSP
SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"
READ_ONLY_CHECKBOXES = {"input": {"disabled": "disabled"}}
VOID_TAGS = {"br", "hr", "img", "input"}
_LESS_THAN = "\ufdd0"  # a Unicode noncharacter: never in text people write
# Every `<` but those of an autolink (`<https://…>`, `<me@example.com>`), which cannot start a tag.
_TAG_START = re.compile(
    r"<(?![A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*>|[\w.!#$%&'*+/=?^`{|}~\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*>)"
)
# cmark writes every tag itself, in these fixed shapes; `[^<>]` keeps each scan from running past
# the next tag, so each of these is linear in the HTML's length.
_TAG = re.compile(r"<(/?)([a-z][a-z0-9]*)[^<>]*>")
_ANY_TAG = re.compile(r"<[^<>]*>")
_IMAGE = re.compile(r'<img src="([^"<>]*)" alt="([^"<>]*)"(?: title="[^"<>]*")? />')
_BLANKED_LINK = re.compile(r'<a href="">((?:(?!</a>)[^<]|<(?!/a>))*)</a>')
# Built once: `nh3.clean(html, **options)` converts the options into a new sanitizer at every call.
SANITIZER = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    url_schemes=SCHEMES,
    link_rel=LINK_REL,
    set_tag_attribute_values=READ_ONLY_CHECKBOXES,
    strip_comments=True,
)
# Which renderer made a stored HTML copy: the options above and the two libraries' versions, so
# that a change to any of them (a security fix of nh3, say) puts every copy out of date.
RENDERER = hashlib.sha256(
    repr((
        EXTENSIONS, OPTIONS, MAX_DEPTH, sorted(TAGS),
        sorted((tag, sorted(names)) for tag, names in ATTRIBUTES.items()),
        sorted(SCHEMES), LINK_REL, READ_ONLY_CHECKBOXES, version("cmarkgfm"), version("nh3"),
    )).encode()
).hexdigest()[:16]  # fmt: skip


def markdown(text: str) -> Markup:
    """The note's content as sanitized HTML, safe to put in a page as it is."""
    parsed = _cmark_html(text)
    if _depth(parsed) > MAX_DEPTH:
        return _plain_paragraph(text)
    parsed = _IMAGE.sub(_image_as_link, parsed)
    parsed = _BLANKED_LINK.sub(r"\1", parsed)
    return Markup(SANITIZER.clean(parsed))  # noqa: S704 - sanitized by nh3's allow-list


def plain_text(text: str) -> str:
    """The words a reader sees in a note, without Markdown marks, table rules or line breaks: what
    previews and search excerpts show (escaped by the template like all user text)."""
    words = html.unescape(_ANY_TAG.sub(" ", _cmark_html(text)))
    return " ".join(words.split())


def stored_html(content: str) -> dict[str, str]:
    """The columns a write of `content` stores with it: its HTML and the renderer that made it."""
    return {"content_html": str(markdown(content)), "html_renderer": RENDERER}


def shown_html(note: Any) -> Markup:
    """A note row's content as its page shows it: the stored HTML if this renderer made it, else
    rendered now."""
    if note.content_html is not None and note.html_renderer == RENDERER:
        return Markup(note.content_html)  # noqa: S704 - sanitized by nh3 when stored (`stored_html`)
    return markdown(note.content)


@lru_cache(maxsize=1024)
def preview(text: str, length: int = PREVIEW_LENGTH) -> str:
    """About `length` characters of plain text from the start of a note, cut at a word with an
    ellipsis."""
    plain = plain_text(text)
    if len(plain) <= length:
        return plain
    cut = plain[:length].rsplit(" ", 1)[0] or plain[:length]
    return cut + "…"


def _cmark_html(text: str) -> str:
    """cmark-gfm's HTML for `text`, not yet sanitized. Raw HTML is text: every `<` reaches cmark as
    a noncharacter that can start no tag, and comes back as `&lt;` (in code too); autolinks stay."""
    source = _TAG_START.sub(_LESS_THAN, text.replace(_LESS_THAN, "\ufffd"))
    rendered: str = cmark.markdown_to_html_with_extensions(source, options=OPTIONS, extensions=EXTENSIONS)
    return rendered.replace(_LESS_THAN, "&lt;")


def _depth(parsed: str) -> int:
    """How deeply cmark's elements nest in `parsed` (its tags are always balanced)."""
    depth = deepest = 0
    for tag in _TAG.finditer(parsed):
        if tag[2] in VOID_TAGS:
            continue
        depth += -1 if tag[1] else 1
        deepest = max(deepest, depth)
    return deepest


def _image_as_link(image: re.Match[str]) -> str:
    """An image as a `!` and a link to it (its alt text as the link's); nothing to link when cmark
    blanked an unsafe address."""
    source, alt = image[1], image[2]
    return f'!<a href="{source}">{alt}</a>' if source else f"!{alt}"


def _plain_paragraph(text: str) -> Markup:
    """A note too deeply nested to show as Markdown, as the text it is, line breaks kept."""
    return Markup('<p class="plain">') + Markup("<br>\n").join(escape(text).split("\n")) + Markup("</p>")
