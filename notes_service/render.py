"""Markdown for the note page, safely (SPEC §9); plain-text previews for lists.

markdown-it-pyrs (markdown-it in Rust, by markdown-it-py's authors) parses CommonMark with GFM tables,
strikethrough and task lists: a 2 KB note in about 0.1 ms, where markdown-it-py took 1.5-1.8 ms and
made a Markdown note page cost twice a plain one. The parser starts from the empty `zero` preset and
is given each rule by name, so raw HTML (`html_block`, `html_inline`) and images can never be on:
`<script>` in a note is text, and `![alt](url)` is a `!` and a link to the image (the page's CSP
would refuse other sites' images anyway). Defence in depth: nh3 (ammonia) then keeps only an
allow-list of tags and attributes, only http/https/mailto and relative links (`javascript:` and
`data:` are dropped), gives every link `rel="nofollow noopener noreferrer"`, and makes every
task-list checkbox read-only.

A note's HTML is made when the note is written and stored beside its content with the `RENDERER`
that made it; the page shows the stored HTML when that is the running renderer, and otherwise
(a note written before the column existed, or before an upgrade of these rules or libraries)
renders the content as it is shown. `notes-service render-notes` brings every stored copy up to date.
The API returns content exactly as written; only the page renders it.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import nh3
from markdown_it_pyrs import MarkdownIt
from markupsafe import Markup

from .useragents import describe

if TYPE_CHECKING:
    from markdown_it_pyrs.markdown_it_pyrs import _PLUGIN_NAME as Rule  # the names, in its stub only

PREVIEW_LENGTH = 200
TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "input",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "input": {"type", "checked", "disabled", "class"},
    "li": {"class"},
    "ul": {"class"},
    "ol": {"start"},
}  # no `style`: table alignment would be an inline style, which the page's CSP refuses
SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"
# Markdown syntax that a plain-text preview leaves out.
_MARKUP = re.compile(
    r"^[ \t]{0,3}(?:#{1,6}|>+|[-+*]|\d+[.)])[ \t]+(?:\[[ xX]\][ \t]+)?"  # headings, quotes, list items
    r"|!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)"  # a link or image: its text
    r"|\*+|~~|`+|^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|?)+[ \t]*$|\|",  # emphasis, code, table rules
    re.MULTILINE,
)


# CommonMark's rules without `html_block`, `html_inline` and `image`, plus the three GFM extensions
# (the names are a Literal type in markdown-it-pyrs: mypy rejects a misspelt one).
RULES: list[Rule] = [
    "blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference",
    "autolink", "backticks", "emphasis", "entity", "escape", "link", "newline",
    "table", "strikethrough", "tasklist",
]  # fmt: skip
PARSER = MarkdownIt("zero").enable_many(RULES)
READ_ONLY_CHECKBOXES = {"input": {"disabled": "disabled"}}
# Built once: `nh3.clean(html, **options)` converts the options into a new sanitizer at every call
# (45 of its 255 µs on the 2 KB benchmark note).
SANITIZER = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    url_schemes=SCHEMES,
    link_rel=LINK_REL,
    set_tag_attribute_values=READ_ONLY_CHECKBOXES,
    strip_comments=True,
)
# Which renderer made a stored HTML copy: the rules and options above and the two libraries'
# versions, so that a change to any of them (a security fix of nh3, say) puts every copy out of date.
RENDERER = hashlib.sha256(
    repr((
        RULES, sorted(TAGS), sorted((tag, sorted(names)) for tag, names in ATTRIBUTES.items()),
        sorted(SCHEMES), LINK_REL, READ_ONLY_CHECKBOXES, version("markdown-it-pyrs"), version("nh3"),
    )).encode()
).hexdigest()[:16]  # fmt: skip


def markdown(text: str) -> Markup:
    """The note's content as sanitized HTML, safe to put in a page as it is."""
    return Markup(SANITIZER.clean(PARSER.render(text)))  # noqa: S704 - sanitized by nh3's allow-list


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
    """About `length` characters of plain text from the start of a note: Markdown marks and line
    breaks removed (link text kept), cut at a word with an ellipsis. Escaped by the template."""
    plain = _MARKUP.sub(lambda match: match.group(1) or " ", text)
    plain = " ".join(plain.split())
    if len(plain) <= length:
        return plain
    cut = plain[:length].rsplit(" ", 1)[0] or plain[:length]
    return cut + "…"


def init_app(app: Any) -> None:
    """The template filters `preview` (lists) and `browser_name` (the sessions table)."""
    app.add_template_filter(preview, "preview")
    app.add_template_filter(describe, "browser_name")
