"""Request and response shapes of the JSON API; they validate bodies and feed `/openapi.json`.

Models are strict (no "yes" for true, no 1 for "1") and refuse unknown fields, so a client's typo is
a 422 naming the field rather than silently ignored. The document says exactly what is enforced:
every string's pattern is the check its validator runs (rules.py), bodies are required, and the
tests run schemathesis with all its checks against it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError
from quart_schema import DataSource, OpenAPIProvider
from werkzeug.routing import Rule

from .. import rules
from .paths import is_api_path


def _no_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL; refuse it everywhere so both backends agree."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _not_blank(value: str) -> str:
    """Trimmed of blanks, and something left (the form's rule too)."""
    value = rules.trim(value)
    if not value:
        raise ValueError("must not be blank")
    return value


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 30.0 is the integer 30, as the document's `integer` says."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


NoNul = AfterValidator(_no_nul)
NoNulDocumented = Field(json_schema_extra={"pattern": rules.NO_NUL_PATTERN})
# Length is checked as sent, then blanks are trimmed away: the pattern says "not only blanks".
NotBlank = [Field(json_schema_extra={"pattern": rules.NOT_BLANK_PATTERN}), NoNul, AfterValidator(_not_blank)]


def _title(value: str) -> str:
    """Trimmed, then 1–200 characters (SPEC §1 counts a title after trimming, as the form does)."""
    value = _not_blank(value)
    if len(value) > rules.TITLE_MAX:
        raise PydanticCustomError(
            "string_too_long",
            "String should have at most {max_length} characters",
            {"max_length": rules.TITLE_MAX},
        )
    return value


# No maxLength in the document: it cannot say "after trimming"; the description does.
Title = Annotated[
    str,
    StringConstraints(min_length=1),
    Field(
        description=f"1–{rules.TITLE_MAX} characters once leading and trailing blanks are trimmed.",
        json_schema_extra={"pattern": rules.NOT_BLANK_PATTERN},
    ),
    NoNul,
    AfterValidator(_title),
]
Content = Annotated[
    str, StringConstraints(min_length=1, max_length=rules.CONTENT_MAX), NoNulDocumented, NoNul
]


def _rule(problem: Callable[[str], str | None]) -> AfterValidator:
    """A check from rules.py as a pydantic validator: the browser form says the very same words."""

    def check(value: str) -> str:
        if (message := problem(value)) is not None:
            raise PydanticCustomError("field_rule", message)
        return value

    return AfterValidator(check)


def _documented(**schema: Any) -> Any:
    """The rule's limits in `/openapi.json` (the check itself is a `_rule`)."""
    return Field(json_schema_extra=schema)


Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    _documented(
        minLength=rules.USERNAME_LENGTH[0], maxLength=rules.USERNAME_LENGTH[1], pattern=rules.USERNAME_PATTERN
    ),
    _rule(rules.username_problem),
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    _documented(
        format="email",
        maxLength=rules.EMAIL_MAX,
        pattern=rules.NO_NUL_PATTERN,
        description="A deliverable-looking address: a dot in the domain, no special-use domain "
        "(.test, .local, .localhost, .invalid, .onion, .arpa), no quoted local part.",
    ),
    NoNul,
    _rule(rules.email_problem),
]
Password = Annotated[
    str,
    _documented(
        minLength=rules.PASSWORD_LENGTH[0], maxLength=rules.PASSWORD_LENGTH[1], pattern=rules.NO_NUL_PATTERN
    ),
    NoNul,
    _rule(rules.password_problem),
]
TokenName = Annotated[str, StringConstraints(min_length=1, max_length=rules.TOKEN_NAME_MAX), *NotBlank]
OneTimeCode = Annotated[
    str,
    StringConstraints(max_length=64),
    Field(
        description="For an account with two-factor sign-in: the 6-digit code of the authenticator "
        'app, or an unused recovery code. Missing → 401 "OTP required"; wrong → 401 "Invalid credentials".',
        json_schema_extra={"pattern": rules.NO_NUL_PATTERN},
    ),
    NoNul,
]
TokenDays = Annotated[int, Field(ge=1, le=rules.TOKEN_DAYS_MAX), BeforeValidator(_whole_number)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TokenRequest(Strict):
    email: Annotated[str, StringConstraints(max_length=rules.EMAIL_MAX), NoNulDocumented, NoNul]
    password: Annotated[str, StringConstraints(max_length=rules.PASSWORD_LENGTH[1]), NoNulDocumented, NoNul]
    name: TokenName | None = None
    expires_in_days: TokenDays | None = None
    otp: OneTimeCode | None = None


class TokenIssued(BaseModel):
    token: str
    token_type: str = "Bearer"
    expires_at: datetime | None


class TokenInfo(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class UserCreate(Strict):
    username: Username
    email: Email
    password: Password


LinkTokenText = Annotated[str, StringConstraints(max_length=rules.LINK_TOKEN_MAX), NoNulDocumented, NoNul]


class PasswordForgot(Strict):
    email: Annotated[str, StringConstraints(max_length=rules.EMAIL_MAX), NoNulDocumented, NoNul]


class PasswordReset(Strict):
    token: LinkTokenText
    new_password: Password


class EmailVerify(Strict):
    token: LinkTokenText


class AccountDelete(Strict):
    password: Annotated[str, StringConstraints(max_length=rules.PASSWORD_LENGTH[1]), NoNulDocumented, NoNul]


class Accepted(BaseModel):
    """202: the request was taken; nothing more is said (`{}`)."""

    model_config = ConfigDict(extra="forbid")


class UserOut(BaseModel):
    id: int
    username: str
    email: str
    created_at: datetime
    email_verified: bool
    two_factor: bool = Field(description="Whether signing in needs a one-time code (SPEC §8).")


def _tags(tags: list[str]) -> list[str]:
    """Each tag valid as sent (rules.py, the form's words), then kept lowercase and merged."""
    if (message := rules.tags_problem(tags)) is not None:
        raise PydanticCustomError("field_rule", message)
    return rules.normal_tags(tags)


Tags = Annotated[
    list[Annotated[str, Field(json_schema_extra={"pattern": rules.TAG_PATTERN})]],
    Field(
        description=f"Up to {rules.TAGS_MAX} tags of 1–{rules.TAG_LENGTH[1]} letters, digits, `-` "
        "and `_`; case-insensitive: kept lowercase, duplicates merged, in the order given."
    ),
    AfterValidator(_tags),
]


class NoteCreate(Strict):
    title: Title
    content: Content
    is_pinned: bool = False
    tags: Tags = []


class NoteReplace(NoteCreate):
    """PUT: title and content are required; an absent `is_pinned` means unpinned; an absent `tags`
    leaves the tags as they are (SPEC §11)."""


class NotePatch(Strict):
    """PATCH: only the fields given change; null is not a value for any of them."""

    # None only marks "not sent" (exclude_unset); the types stay non-optional so null is a 422.
    title: Title = None  # type: ignore[assignment]
    content: Content = None  # type: ignore[assignment]
    is_pinned: bool = None  # type: ignore[assignment]
    tags: Tags = None  # type: ignore[assignment]


class NoteOut(BaseModel):
    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="1 when created, +1 on every change; the ETag is this number, quoted.")
    tags: list[str] = Field(description="Lowercase, in the order given.")


class TrashedNoteOut(NoteOut):
    """A note in the trash: when it was moved there."""

    deleted_at: datetime


class ExportedNoteOut(NoteOut):
    """A note in the export and in the change feed: `deleted_at` is set for a note in the trash,
    null for the others."""

    deleted_at: datetime | None


class ExportOut(BaseModel):
    """GET /api/export: the account and every note of it, trashed ones included."""

    user: UserOut
    notes: list[ExportedNoteOut]


class NoteHeaders(BaseModel):
    """Response headers of a note."""

    etag: str = Field(description='The note\'s version, quoted (`"3"`); changes with every change.')


class ConditionalWrite(BaseModel):
    """Request headers of a change to a note."""

    if_match: str | None = Field(
        None,
        description="Change only if the note is still at this ETag (or `*`); otherwise 412 "
        "`Precondition failed` and nothing changes. Without it the change applies as it is.",
    )


class IdempotentCreate(BaseModel):
    """Request headers of a new note."""

    idempotency_key: str | None = Field(
        None,
        description="Any 1 to 200 visible ASCII characters, new for each note (a UUID, say): a retry "
        "with the same key within 24 hours gets the first answer again (with `Idempotent-Replayed: "
        "true`) and makes no second note. The same key with another body is a 422.",
        json_schema_extra={"minLength": 1, "maxLength": 200, "pattern": r"^[\x21-\x7e]+$"},
    )


class ConditionalRead(BaseModel):
    """Request headers of a read of a note."""

    if_none_match: str | None = Field(
        None, description="304 with no body when the note's ETag is one of these (or `*`)."
    )


CURSOR_PATTERN = r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$"  # itsdangerous: payload.signature, base64url


Cursor = Annotated[
    str,
    StringConstraints(max_length=512),
    Field(
        description='Opaque: copy it from the `Link: rel="next"` header. One this server did not sign '
        "(or signed with another key) is a 400 `Invalid cursor`.",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    ),
]


class NotesQuery(BaseModel):
    # An unknown parameter is a 422 naming it, as an unknown body field is (the document says so).
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Cursor | None = None
    q: (
        Annotated[
            str,
            Field(
                description="Search: notes holding every word or another form of it (`word*` a prefix, "
                '`"two words"` a phrase, the last word a prefix too unless a blank follows it, `tag:x` '
                "only notes tagged x); best matches first (title above content), then newest. Empty: "
                "the plain list. "
                f"Only the first {rules.SEARCH_MAX} characters count, as in the browser's search box.",
                json_schema_extra={"pattern": rules.NO_NUL_PATTERN},
            ),
            NoNul,
            AfterValidator(lambda text: text[: rules.SEARCH_MAX]),
        ]
        | None
    ) = None
    tag: (
        Annotated[
            str,
            StringConstraints(max_length=200),
            Field(
                description="Only the notes with this tag (case-insensitive); with `q`, the matches "
                "with it. A tag no note can have matches nothing.",
                json_schema_extra={"pattern": rules.NO_NUL_PATTERN},
            ),
            NoNul,
        ]
        | None
    ) = None


class TrashQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Cursor | None = None


FeedCursor = Annotated[
    str,
    Field(
        description="Opaque: the `cursor` of the previous answer (or an event's `id`). One this server "
        "did not sign, or another user's, is a 400 `Invalid cursor`; one from before a deletion "
        "marker that has since been purged is a 410: sync from the start (without `since`).",
        json_schema_extra={"pattern": r"^[A-Za-z0-9_\-]+$", "maxLength": 128},
    ),
]


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: FeedCursor | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class NoteChanged(BaseModel):
    """A note that was written, trashed or restored, in its latest state."""

    note: ExportedNoteOut


class NoteDeleted(BaseModel):
    """A note deleted for good (purged, trash emptied, or the automatic purge)."""

    id: int
    deleted: Literal[True]


class ChangesOut(BaseModel):
    """GET /api/changes: changes oldest first, each note once; go on from `cursor`."""

    changes: list[NoteChanged | NoteDeleted]
    cursor: str = Field(description="Where to go on from: `since` of the next request.")
    more: bool = Field(description="Whether more changes follow right away (ask again with `cursor`).")


class Error(BaseModel):
    error: str
    details: dict[str, str] | None = None


class NoContent:
    """A 204 response: no body (`document_response(NoContent, 204)`)."""


class EventStream:
    """A live stream's 200: Server-Sent Events, not JSON (`document_response(EventStream, 200)`)."""


EVENT_STREAM_RESPONSE = {
    "description": "Server-Sent Events: `id:` a feed cursor, `event: note` with the note as `data:`, or "
    '`event: deleted` with `{"id"}`; a comment line every heartbeat; `retry:` when the server restarts.',
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


class APIOnlyProvider(OpenAPIProvider):
    """The OpenAPI document describes the JSON API only, not the HTML pages; 204s have no body,
    event streams are `text/event-stream`."""

    def generate_rules(self) -> Iterable[Rule]:
        return (rule for rule in super().generate_rules() if is_api_path(rule.rule))

    def build_request_body(
        self, model: type[Any], source: DataSource
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Every body the API takes is required: without one the answer is 400 "No data provided"."""
        request_body, components = super().build_request_body(model, source)
        return {**request_body, "required": True}, components

    def build_response_object(
        self, model: type[Any], headers_model: type[Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if model is NoContent:
            return {"description": "No content"}, {}
        if model is EventStream:
            return EVENT_STREAM_RESPONSE, {}
        response, components = super().build_response_object(model, headers_model)
        if "headers" in response.get("content", {}):  # quart-schema puts them among the media types
            response["headers"] = response["content"].pop("headers")
        if get_origin(model) is list:  # not the docstring of `list`
            response["description"] = f"A list of {get_args(model)[0].__name__}"
        return response, components
