"""The patterns `/openapi.json` documents are exactly the checks the API runs (property-tested)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from notes_service import rules
from notes_service.http.schemas import NoteCreate, TokenRequest

# Blanks, NUL and other characters mixed, so that every branch of the rules is hit.
TEXT = st.text(
    alphabet=st.sampled_from([*rules.BLANK, "\x00", "\x1c", "\u00a0", "a", "é", "\n"]), max_size=12
)


def accepted(model: type, **fields: object) -> bool:
    try:
        model.model_validate(fields)
    except ValidationError:
        return False
    return True


@given(TEXT)
def test_a_title_is_accepted_exactly_when_it_matches_the_documented_pattern(title: str) -> None:
    documented = re.fullmatch(rules.NOT_BLANK_PATTERN, title) is not None
    assert accepted(NoteCreate, title=title, content="c") == (documented and len(title) >= 1)


@given(TEXT)
def test_content_is_accepted_exactly_when_it_matches_the_documented_pattern(content: str) -> None:
    documented = re.fullmatch(rules.NO_NUL_PATTERN, content) is not None and len(content) >= 1
    assert accepted(NoteCreate, title="t", content=content) == documented


@given(TEXT)
def test_a_token_name_is_accepted_exactly_when_it_matches_the_documented_pattern(name: str) -> None:
    documented = re.fullmatch(rules.NOT_BLANK_PATTERN, name) is not None
    assert accepted(TokenRequest, email="a@example.com", password="p", name=name) == documented


def test_a_whole_number_sent_as_a_float_is_an_integer() -> None:
    request = TokenRequest.model_validate(
        {"email": "a@example.com", "password": "p", "expires_in_days": 30.0}
    )
    assert request.expires_in_days == 30
    assert not accepted(TokenRequest, email="a@example.com", password="p", expires_in_days=30.5)
    assert not accepted(TokenRequest, email="a@example.com", password="p", expires_in_days="30")


def test_a_title_keeps_its_inner_blanks_and_loses_the_outer_ones() -> None:
    assert NoteCreate.model_validate({"title": " \t two  words \n", "content": "c"}).title == "two  words"
