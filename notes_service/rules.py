"""Field rules shared by the browser forms and the API, so both refuse the same input, in the same words.

Each `*_problem` function returns the message a person sees for a bad value, or None when it is fine;
http/forms.py wraps them as WTForms validators and http/schemas.py as pydantic validators.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
USERNAME_LENGTH = (3, 80)
EMAIL_MAX = 254
PASSWORD_LENGTH = (8, 1024)
TITLE_MAX = 200
CONTENT_MAX = 100_000
TOKEN_NAME_MAX = 100
TOKEN_DAYS_MAX = 3650
SEARCH_MAX = 500
TAGS_MAX = 20  # per note, after duplicates are merged (SPEC §11)
TAG_LENGTH = (1, 40)
# Unicode letters and digits (Python's `\w` less `_`, which is allowed anyway), `-` and `_`. The
# same set `/openapi.json` documents for each tag.
TAG_PATTERN = r"^[\w-]{1,40}$"
_TAG = re.compile(r"[\w-]{1,40}")
LINK_TOKEN_MAX = 128  # an emailed link's token is 43 characters; longer is never one of ours

# Trimming removes exactly these characters, in forms and in the API alike, and `/openapi.json`
# documents the same sets as patterns (http/schemas.py), so what the document allows is what we accept.
BLANK = " \t\n\r\x0b\x0c"
NO_NUL_PATTERN = "^[^\\u0000]*$"
NOT_BLANK_PATTERN = "^[^\\u0000]*[^\\u0000 \\t\\n\\r\\u000b\\u000c][^\\u0000]*$"

REQUIRED = "This field is required."
USERNAME_CHARACTERS = "Use letters, digits, _ - and . only."
EMAIL_INVALID = "Invalid email address."
_USERNAME = re.compile(USERNAME_PATTERN)


def trim(value: str) -> str:
    """`value` without leading and trailing blanks (`BLANK`)."""
    return value.strip(BLANK)


def length_message(low: int, high: int) -> str:
    return f"Field must be between {low} and {high} characters long."


def too_long_message(high: int) -> str:
    return f"Field cannot be longer than {high} characters."


def username_problem(username: str) -> str | None:
    if not username:
        return REQUIRED
    if not USERNAME_LENGTH[0] <= len(username) <= USERNAME_LENGTH[1]:
        return length_message(*USERNAME_LENGTH)
    if not _USERNAME.match(username):
        return USERNAME_CHARACTERS
    return None


def email_problem(email: str) -> str | None:
    if not email:
        return REQUIRED
    if len(email) > EMAIL_MAX:
        return too_long_message(EMAIL_MAX)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return EMAIL_INVALID
    return None


def password_problem(password: str) -> str | None:
    if not password:
        return REQUIRED
    if not PASSWORD_LENGTH[0] <= len(password) <= PASSWORD_LENGTH[1]:
        return length_message(*PASSWORD_LENGTH)
    return None


TAG_CHARACTERS = "Tags use letters, digits, - and _ only (no spaces)."
TAG_LENGTH_MESSAGE = f"Each tag must be between {TAG_LENGTH[0]} and {TAG_LENGTH[1]} characters long."
TOO_MANY_TAGS = f"A note can have at most {TAGS_MAX} tags."


def normal_tag(tag: str) -> str:
    """A tag as it is kept: lowercase and composed (NFC: "é" is one letter however it was typed).
    Lowercasing can give a letter a combining mark ("İ" → "i̇"), which is no tag character: dropped."""
    lowered = unicodedata.normalize("NFC", tag.lower())
    return "".join(char for char in lowered if not unicodedata.category(char).startswith("M"))


def normal_tags(tags: Iterable[str]) -> list[str]:
    """Tags as kept (`normal_tag`), duplicates merged, in the order first given."""
    return list(dict.fromkeys(normal_tag(tag) for tag in tags))


def tag_problem(tag: str) -> str | None:
    """What is wrong with one tag as sent, or None."""
    if not TAG_LENGTH[0] <= len(tag) <= TAG_LENGTH[1]:
        return TAG_LENGTH_MESSAGE
    if not _TAG.fullmatch(unicodedata.normalize("NFC", tag)):
        return TAG_CHARACTERS
    return None


def tags_problem(tags: Iterable[str]) -> str | None:
    """What is wrong with a note's tags (each, then how many once merged), or None."""
    tags = list(tags)
    for tag in tags:
        if (message := tag_problem(tag)) is not None:
            return f"{message} Not one: {tag[:50]!r}."
    if len(normal_tags(tags)) > TAGS_MAX:
        return TOO_MANY_TAGS
    return None


def split_tags(text: str) -> list[str]:
    """The tags typed in a form's one text field: separated by commas or blanks."""
    return [tag for tag in re.split(r"[,\s]+", text) if tag]
