"""Field rules shared by the browser forms and the API, so both refuse the same input, in the same words.

Each `*_problem` function returns the message a person sees for a bad value, or None when it is fine;
http/forms.py wraps them as WTForms validators and http/schemas.py as pydantic validators.
"""

from __future__ import annotations

import re

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
