"""The words of the error pages people read: what happened and what to do next, in plain sentences.

Programs keep the stable short messages of `errors.TITLES` (clients match on them); a person reading
"403 Forbidden" learns nothing (issue 23, item 7). So a page has its own heading, a short `<title>`
and, when the error carries no message of its own, an explanation. The status code stays (in the
response and in small print for a support request); the template always adds a way back.
"""

from __future__ import annotations

from typing import NamedTuple


class PageWords(NamedTuple):
    """What an error page says: a short `<title>`, its heading and one or two sentences."""

    title: str
    heading: str
    detail: str


PAGES = {
    400: PageWords(
        "Request refused",
        "That request could not be used",
        "Something in it was missing or out of date. Go back, reload the page and try again.",
    ),
    401: PageWords("Please log in", "Please log in", "This page is for signed-in people."),
    403: PageWords(
        "Not your note",
        "This note belongs to another account",
        "Only the account that wrote a note can read or change it.",
    ),
    404: PageWords(
        "Page not found",
        "There is nothing at this address",
        "It may have been deleted for good, or the link may be mistyped.",
    ),
    405: PageWords(
        "Not allowed here",
        "That cannot be done at this address",
        "Go back and use the page's own links and buttons.",
    ),
    409: PageWords(
        "Changed elsewhere",
        "This changed somewhere else first",
        "Reload the page to see what it holds now, then try again.",
    ),
    410: PageWords("Gone", "This is no longer here", "It was removed; go back and start again."),
    413: PageWords(
        "Too large",
        "That was too large to accept",
        "What was sent is larger than this service takes. Make it shorter and try again.",
    ),
    429: PageWords("Too many attempts", "Too many attempts", "Please wait a minute, then try again."),
    500: PageWords(
        "Something went wrong",
        "Something went wrong on our side",
        "Nothing you did caused it, and it has been recorded. Please try again in a moment.",
    ),
    503: PageWords(
        "Unavailable",
        "The service is not available just now",
        "Please try again in a moment.",
    ),
}
FALLBACK = PageWords("Error", "Something went wrong", "Please go back and try again.")
# The owner's own note at its usual address while it waits in the trash (SPEC §11 Look).
IN_TRASH = PageWords(
    "In the trash",
    "This note is in the trash",
    "Restore it to read and change it again; until then it is left out of your notes and searches.",
)


def page_words(status: int, message: str, generic: set[str]) -> PageWords:
    """The page's words for `status`; a message of the error's own (not one of `generic`, the
    status names programs get) replaces the stock explanation."""
    words = PAGES.get(status, FALLBACK)
    return words if message in generic else words._replace(detail=message)
