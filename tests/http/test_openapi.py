"""The OpenAPI document of the JSON API (SPEC §3), and a schemathesis run against it.

Part 1 fetches `/openapi.json` from the app and checks it as an OpenAPI 3 document: its structure,
every `/api` route of SPEC §3 with its methods, request bodies with JSON schemas naming the SPEC
fields, the success and error statuses (401 on every authenticated route), a declared HTTP bearer
security scheme that the authenticated routes require, and `/docs` serving HTML.
`openapi-spec-validator` is not in the venv (schemathesis 4 does not depend on it), so besides the
structural checks written here the document is validated against the official OpenAPI 3.x
meta-schema that schemathesis bundles (`BaseSchema.validate()`, run by jsonschema-rs).

Part 2 has schemathesis generate requests for every `/api` operation from the app's own
`/openapi.json` and check every response with exactly four checks, enabled in an explicit
`schemathesis.Config` (so no `schemathesis.toml` is picked up): `not_a_server_error` (no 5xx),
`response_schema_conformance`, `status_code_conformance` and `content_type_conformance`.

How part 2 runs, and why:

- In process, over ASGI: no subprocess, port or network. `schemathesis.openapi.from_asgi` loads the
  document from the app, and its ASGI transport runs the app's lifespan (Quart's `before_serving`,
  which opens the database engine) on schemathesis's own event-loop thread and sends every request on
  that loop. The fuzzed app is therefore a second `create_app(settings)` instance on the test's
  freshly migrated SQLite file: the usual `app`, `factory` and `client` fixtures (on
  pytest-asyncio's loop) first create the users and notes and get the bearer tokens by
  POST /api/token; the fuzzed instance then serves the same database. Its lifespan is shut down
  (engine disposed) when the test ends.
- Hypothesis drives generation directly (`APIOperation.as_strategy` under `@given`), one pytest item
  per operation. Not `schemathesis.pytest.from_fixture`: in schemathesis 4.32 its lazy loader reads
  `request.node._nodeid`, which pytest 9 no longer has (AttributeError); the eager
  `schema.parametrize()` would need the app built at import time and reports one item.
- Bounded and repeatable: a few explicit cases per operation (the happy path, someone else's
  resource, a missing one; see `explicit_cases`), then `MAX_EXAMPLES` positive and `MAX_EXAMPLES`
  negative generated cases per operation, with a fixed seed (`@seed(SEED)`), `derandomize=True`, no
  example database and no deadline. The module runs in about 15-20 s.
- Authentication: a case carries the owner's token, except that the operations that revoke tokens
  (DELETE /api/token, DELETE /api/tokens/{token_id}) get a fresh token of a third user per case, so
  the owner's token survives the run (checked at the end). One generated case in ten goes without
  `Authorization` and one with an unknown token; those must not succeed.

The fuzz run found four app bugs (undocumented 204s and 429s, 405s for out-of-range ids, a 500 on
non-UTF-8 bodies); each is fixed and has a targeted test here.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from quart import Quart
from schemathesis.python import asgi

from notes_service import create_app
from notes_service.services import link_tokens
from tests.helpers import PASSWORD, api_token, bearer

# --- the contract (SPEC §3) -------------------------------------------------------------------

SPEC_OPERATIONS = {
    "/api/token": {"post", "delete"},
    "/api/tokens": {"get"},
    "/api/tokens/{token_id}": {"delete"},
    "/api/users": {"post"},
    "/api/me": {"get", "delete"},
    "/api/notes": {"get", "post"},
    "/api/notes/{note_id}": {"get", "patch", "put", "delete"},
    "/api/trash": {"get"},  # SPEC §9
    "/api/trash/{note_id}/restore": {"post"},
    "/api/trash/{note_id}": {"delete"},
    # SPEC §7
    "/api/password/forgot": {"post"},
    "/api/password/reset": {"post"},
    "/api/email/verify": {"post"},
    "/api/export": {"get"},
    "/api/changes": {"get"},  # SPEC §10
    "/api/events": {"get"},
}
ALL_OPERATIONS = sorted(
    (method.upper(), path) for path, methods in SPEC_OPERATIONS.items() for method in methods
)
PUBLIC = {
    ("POST", "/api/token"),
    ("POST", "/api/users"),
    ("POST", "/api/password/forgot"),
    ("POST", "/api/password/reset"),
    ("POST", "/api/email/verify"),
}
# SPEC §4 and §7: over the limit -> 429 with Retry-After
THROTTLED = sorted({("POST", "/api/token"), ("POST", "/api/users"), ("POST", "/api/password/forgot")})
REVOKES_TOKENS = {("DELETE", "/api/token"), ("DELETE", "/api/tokens/{token_id}")}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
MAX_ID = 2**31 - 1

NOTE_FIELDS = {"id", "title", "content", "is_pinned", "created_at", "updated_at", "version"}
USER_FIELDS = {"id", "username", "email", "created_at", "email_verified"}
TOKEN_INFO_FIELDS = {"id", "name", "created_at", "last_used_at", "expires_at"}
NOTE_BODY = ({"title", "content", "is_pinned"}, {"title", "content"})
# Request bodies: (fields the schema must name, fields it must require).
REQUEST_BODIES = {
    ("POST", "/api/token"): (
        {"email", "password", "name", "expires_in_days"},
        {"email", "password"},
    ),
    ("POST", "/api/users"): ({"username", "email", "password"}, {"username", "email", "password"}),
    ("POST", "/api/notes"): NOTE_BODY,
    ("PUT", "/api/notes/{note_id}"): NOTE_BODY,
    ("PATCH", "/api/notes/{note_id}"): ({"title", "content", "is_pinned"}, set()),
    ("POST", "/api/password/forgot"): ({"email"}, {"email"}),
    ("POST", "/api/password/reset"): ({"token", "new_password"}, {"token", "new_password"}),
    ("POST", "/api/email/verify"): ({"token"}, {"token"}),
    ("DELETE", "/api/me"): ({"password"}, {"password"}),
}
# The success status and its body: (status, "object" | "array" | None, fields).
SUCCESS = {
    ("POST", "/api/token"): ("200", "object", {"token", "token_type", "expires_at"}),
    ("DELETE", "/api/token"): ("204", None, set()),
    ("GET", "/api/tokens"): ("200", "array", TOKEN_INFO_FIELDS),
    ("DELETE", "/api/tokens/{token_id}"): ("204", None, set()),
    ("POST", "/api/users"): ("201", "object", USER_FIELDS),
    ("GET", "/api/me"): ("200", "object", USER_FIELDS),
    ("GET", "/api/notes"): ("200", "array", NOTE_FIELDS),
    ("POST", "/api/notes"): ("201", "object", NOTE_FIELDS),
    ("GET", "/api/notes/{note_id}"): ("200", "object", NOTE_FIELDS),
    ("PATCH", "/api/notes/{note_id}"): ("200", "object", NOTE_FIELDS),
    ("PUT", "/api/notes/{note_id}"): ("200", "object", NOTE_FIELDS),
    ("DELETE", "/api/notes/{note_id}"): ("204", None, set()),
    ("GET", "/api/trash"): ("200", "array", NOTE_FIELDS | {"deleted_at"}),
    ("POST", "/api/trash/{note_id}/restore"): ("200", "object", NOTE_FIELDS),
    ("DELETE", "/api/trash/{note_id}"): ("204", None, set()),
    ("POST", "/api/password/forgot"): ("202", "object", set()),
    ("POST", "/api/password/reset"): ("204", None, set()),
    ("POST", "/api/email/verify"): ("204", None, set()),
    ("DELETE", "/api/me"): ("204", None, set()),
    ("GET", "/api/export"): ("200", "object", {"user", "notes"}),
    ("GET", "/api/changes"): ("200", "object", {"changes", "cursor", "more"}),
    ("GET", "/api/events"): ("200", "event-stream", set()),
}
# The error statuses SPEC §3 names per operation; 401 is added for every authenticated one.
ERRORS = {
    ("POST", "/api/token"): {"400", "401", "422"},
    ("DELETE", "/api/tokens/{token_id}"): {"404"},
    ("POST", "/api/users"): {"400", "409", "422"},
    ("GET", "/api/notes"): {"400", "422"},
    ("POST", "/api/notes"): {"400", "422"},
    ("GET", "/api/notes/{note_id}"): {"403", "404"},
    ("PATCH", "/api/notes/{note_id}"): {"400", "403", "404", "412", "422"},
    ("PUT", "/api/notes/{note_id}"): {"400", "403", "404", "412", "422"},
    ("DELETE", "/api/notes/{note_id}"): {"403", "404", "412"},
    ("GET", "/api/trash"): {"400", "422"},
    ("POST", "/api/trash/{note_id}/restore"): {"403", "404"},
    ("DELETE", "/api/trash/{note_id}"): {"403", "404"},
    ("POST", "/api/password/forgot"): {"400", "422"},
    ("POST", "/api/password/reset"): {"400", "422"},
    ("POST", "/api/email/verify"): {"400", "422"},
    ("DELETE", "/api/me"): {"400", "422"},
    ("GET", "/api/changes"): {"400", "410", "422"},
    ("GET", "/api/events"): {"400", "403", "410", "429", "503"},
}

# --- the document -----------------------------------------------------------------------------


@pytest.fixture
async def document(client: Any) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return await response.get_json()  # type: ignore[no-any-return]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/components/...`) to the node they name."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def json_schema(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The resolved `application/json` schema of a response object."""
    content = resolve(document, response).get("content", {})
    assert "application/json" in content, f"no JSON body documented: {sorted(content)}"
    return resolve(document, content["application/json"]["schema"])


def object_schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object schema inside `schema` (resolving `$ref` and a nullable `anyOf`)."""
    schema = resolve(document, schema)
    for option in schema.get("anyOf", []):
        option = resolve(document, option)
        if option.get("type") == "object" or "properties" in option:
            return option
    return schema


def test_whole_document_is_valid_openapi(document: dict[str, Any]) -> None:
    """Checked against the official OpenAPI 3.1 meta-schema (shipped with schemathesis)."""
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    assert document["openapi"].startswith("3.1")
    errors = [str(error) for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []


def test_document_describes_exactly_the_api(document: dict[str, Any]) -> None:
    described = {
        path: {method for method in operations if method in HTTP_METHODS}
        for path, operations in document["paths"].items()
    }
    assert described == SPEC_OPERATIONS
    operation_ids = [
        operation["operationId"]
        for operations in document["paths"].values()
        for method, operation in operations.items()
        if method in HTTP_METHODS
    ]
    assert len(operation_ids) == len(set(operation_ids)), "duplicate operationId"


@pytest.mark.parametrize(("method", "path"), sorted(REQUEST_BODIES))
def test_request_bodies_are_schemas_with_the_spec_fields(
    document: dict[str, Any], method: str, path: str
) -> None:
    named, required = REQUEST_BODIES[method, path]
    body = resolve(document, document["paths"][path][method.lower()]["requestBody"])
    schema = object_schema(document, body["content"]["application/json"]["schema"])
    assert named <= set(schema.get("properties", {})), sorted(schema.get("properties", {}))
    assert set(schema.get("required", [])) == required


def test_operations_without_a_body_document_none(document: dict[str, Any]) -> None:
    for method, path in ALL_OPERATIONS:
        if (method, path) not in REQUEST_BODIES:
            assert "requestBody" not in document["paths"][path][method.lower()], (method, path)


@pytest.mark.parametrize(("method", "path"), ALL_OPERATIONS)
def test_success_response_is_documented(document: dict[str, Any], method: str, path: str) -> None:
    status, kind, fields = SUCCESS[method, path]
    responses = document["paths"][path][method.lower()]["responses"]
    assert status in responses, f"{method} {path}: {status} not documented, only {sorted(responses)}"
    if kind is None:
        assert not resolve(document, responses[status]).get("content"), "a 204 has no body"
        return
    if kind == "event-stream":
        assert set(resolve(document, responses[status])["content"]) == {"text/event-stream"}
        return
    schema = json_schema(document, responses[status])
    if kind == "array":
        assert schema.get("type") == "array", schema
        schema = resolve(document, schema["items"])
    properties = set(object_schema(document, schema).get("properties", {}))
    assert fields <= properties, sorted(properties)
    if (method, path) == ("GET", "/api/tokens"):
        secret = {name for name in properties if re.search("token|secret|digest|hash", name)}
        assert not secret, f"the token list documents secret fields {secret}"


@pytest.mark.parametrize(("method", "path"), ALL_OPERATIONS)
def test_error_responses_are_documented(document: dict[str, Any], method: str, path: str) -> None:
    responses = document["paths"][path][method.lower()]["responses"]
    expected = ERRORS.get((method, path), set()) | ({"401"} if (method, path) not in PUBLIC else set())
    missing = sorted(expected - set(responses))
    assert not missing, f"{method} {path}: {missing} not documented"
    for status in responses:
        if status.startswith(("4", "5")):
            schema = object_schema(document, json_schema(document, responses[status]))
            assert "error" in schema.get("required", []), (method, path, status)
            assert resolve(document, schema["properties"]["error"]).get("type") == "string"


@pytest.mark.parametrize(("method", "path"), THROTTLED)
def test_throttled_operations_document_429(document: dict[str, Any], method: str, path: str) -> None:
    assert "429" in document["paths"][path][method.lower()]["responses"]


def test_bearer_security_scheme_is_declared_and_required(document: dict[str, Any]) -> None:
    schemes = {
        name: resolve(document, scheme)
        for name, scheme in document.get("components", {}).get("securitySchemes", {}).items()
    }
    bearer_schemes = {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    }
    assert bearer_schemes, f"no HTTP bearer security scheme in {schemes}"
    for method, path in ALL_OPERATIONS:
        security = document["paths"][path][method.lower()].get("security", document.get("security", []))
        for requirement in security:
            assert set(requirement) <= set(schemes), f"{method} {path}: undeclared scheme"
        if (method, path) in PUBLIC:
            assert all(requirement == {} for requirement in security), f"{method} {path}: public"
        else:
            assert security, f"{method} {path} declares no security requirement"
            assert all(set(requirement) & bearer_schemes for requirement in security), security


async def test_docs_serve_html_for_the_document(client: Any) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = await response.get_data(as_text=True)
    assert "<body" in page.lower()
    assert "/openapi.json" in page


# --- part 2: schemathesis ---------------------------------------------------------------------

# schemathesis's own default, minus 5xx, plus 412: a well-formed `If-Match` that is not the note's
# current ETag is refused for the note's state, as a 404 or 409 is.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]
MAX_EXAMPLES = 50  # generated cases per operation and per generation mode (positive, negative)
SEED = 20_240_601
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        # Every check schemathesis has: the document says what the server enforces.
        "checks": {"enabled": True, "positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        # Each entry names one operation: `include-path` and `include-method` together match
        # either (an entry for POST /api/users would apply to every POST).
        "operations": [
            # A cursor of the documented form that this server did not sign (a fuzzer cannot sign one).
            {
                "include-name": "GET /api/notes",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
            },
            {
                "include-name": "GET /api/trash",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
            },
            {
                "include-name": "GET /api/changes",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
            },
            # An address of `format: email` that email-validator refuses (say, at a .test domain):
            # the field's description says so; JSON Schema has no way to.
            {
                "include-name": "POST /api/users",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
            # A token of the documented form that no emailed link carried (a fuzzer cannot read mail).
            *(
                {
                    "include-name": f"POST {path}",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                }
                for path in ("/api/password/reset", "/api/email/verify")
            ),
        ],
    }
)
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
AUTH_VARIANTS = ("valid",) * 8 + ("missing", "unknown")
UNKNOWN_TOKEN = "nst_" + "x" * 43


@dataclass
class FuzzData:
    """What the test database holds before the run (ids as the API returned them)."""

    owner: dict[str, str]  # bearer headers
    owner_email: str
    spare_email: str  # whose fresh tokens the revoking operations get
    own_notes: list[int]
    others_note: int
    owner_token_id: int
    spare_token_id: int
    reset_token: str  # a reset link's token for `other` (whose API token the run does not use)
    confirm_token: str  # a confirmation link's token for the owner
    own_trashed: int = 0  # SPEC §9: a note of the owner's and one of the other's, in the trash
    others_trashed: int = 0


@dataclass
class FuzzTarget:
    app: Quart
    data: FuzzData
    statuses: Counter[int] = field(default_factory=Counter)
    known: Counter[str] = field(default_factory=Counter)


@pytest.fixture
async def fuzz_data(client: Any, factory: Any, store: Any) -> FuzzData:
    owner = await factory.user("owner")
    other = await factory.user("other")
    spare = await factory.user("spare")
    owner_headers = bearer(await api_token(client, owner.email))
    other_headers = bearer(await api_token(client, other.email))
    spare_headers = bearer(await api_token(client, spare.email))
    ids = []
    for number, headers in enumerate([owner_headers] * 3 + [other_headers]):
        note = {"title": f"note {number}", "content": "body", "is_pinned": number == 0}
        response = await client.post("/api/notes", json=note, headers=headers)
        assert response.status_code == 201
        ids.append((await response.get_json())["id"])
    token_ids = []
    for headers in (owner_headers, spare_headers):
        response = await client.get("/api/tokens", headers=headers)
        (token,) = await response.get_json()
        token_ids.append(token["id"])
    trashed = []
    for headers in (owner_headers, other_headers):
        response = await client.post("/api/notes", json={"title": "bin", "content": "x"}, headers=headers)
        note_id = (await response.get_json())["id"]
        assert (await client.delete(f"/api/notes/{note_id}", headers=headers)).status_code == 204
        trashed.append(note_id)
    async with store.write():
        links = [
            await link_tokens.issue_link(store, user_id=user.id, purpose=purpose, email=user.email)
            for user, purpose in ((other, link_tokens.RESET), (owner, link_tokens.CONFIRM))
        ]
    return FuzzData(owner_headers, owner.email, spare.email, ids[:3], ids[3], *token_ids, *links, *trashed)


@pytest.fixture
def fuzz_target(settings: dict[str, Any], fuzz_data: FuzzData) -> Iterator[FuzzTarget]:
    """A second app on the test's database; schemathesis runs its lifespan and its requests."""
    try:
        yield FuzzTarget(create_app(settings), fuzz_data)
    finally:
        asgi.shutdown_lifespans()


def explicit_cases(operation: Any, data: FuzzData) -> list[schemathesis.Case]:
    """Hand-written cases that reach each operation's success and ownership branches."""
    note = {"title": "explicit", "content": "text", "is_pinned": True}
    own, other, email = data.own_notes[0], data.others_note, data.owner_email
    by_operation: dict[tuple[str, str], list[dict[str, Any]]] = {
        ("POST", "/api/token"): [
            {"body": {"email": email, "password": PASSWORD, "expires_in_days": 1}},
            {"body": {"email": email, "password": PASSWORD + "!"}},
            {"body": {"email": email, "password": PASSWORD, "unknown_field": 1}},
        ],
        ("POST", "/api/users"): [
            {"body": {"username": "newcomer", "email": "new@example.com", "password": PASSWORD}},
            {"body": {"username": "owner", "email": "x@example.com", "password": PASSWORD}},
            {"body": {"username": "a", "email": "not-an-email", "password": "short"}},
        ],
        ("GET", "/api/notes"): [{"query": {"limit": 1}}, {"query": {"cursor": "forged"}}],
        ("POST", "/api/notes"): [{"body": note}, {"body": {"title": "", "content": "x"}}],
        ("GET", "/api/notes/{note_id}"): [
            {"path_parameters": {"note_id": note_id}} for note_id in (own, other, MAX_ID)
        ],
        ("PATCH", "/api/notes/{note_id}"): [
            {"path_parameters": {"note_id": own}, "body": {"is_pinned": False}},
            {"path_parameters": {"note_id": other}, "body": {"title": "mine"}},
            {"path_parameters": {"note_id": own}, "body": {"title": None}},
        ],
        ("PUT", "/api/notes/{note_id}"): [
            {"path_parameters": {"note_id": own}, "body": note},
            {"path_parameters": {"note_id": other}, "body": note},
            {"path_parameters": {"note_id": own}, "body": {"title": "only"}},
        ],
        ("DELETE", "/api/notes/{note_id}"): [
            {"path_parameters": {"note_id": note_id}} for note_id in (other, data.own_notes[-1])
        ],
        ("POST", "/api/trash/{note_id}/restore"): [
            {"path_parameters": {"note_id": note_id}}
            for note_id in (data.others_trashed, own, data.own_trashed)
        ],
        ("DELETE", "/api/trash/{note_id}"): [
            {"path_parameters": {"note_id": note_id}}
            for note_id in (data.others_trashed, own, data.own_trashed)
        ],
        ("GET", "/api/trash"): [{"query": {"limit": 1}}, {"query": {"cursor": "forged"}}],
        ("GET", "/api/changes"): [{"query": {"limit": 1}}, {"query": {"since": "forged"}}, {}],
        ("DELETE", "/api/tokens/{token_id}"): [
            {"path_parameters": {"token_id": data.owner_token_id}},
            {"path_parameters": {"token_id": data.spare_token_id}},
        ],
        ("POST", "/api/password/forgot"): [
            {"body": {"email": email}},
            {"body": {"email": "x@nowhere.example"}},
        ],
        ("POST", "/api/password/reset"): [
            {"body": {"token": data.reset_token, "new_password": "short"}},
            {"body": {"token": data.reset_token, "new_password": PASSWORD + " again"}},
            {"body": {"token": data.reset_token, "new_password": PASSWORD + " again"}},
        ],
        ("POST", "/api/email/verify"): [
            {"body": {"token": data.confirm_token}},
            {"body": {"token": data.confirm_token}},
        ],
        ("DELETE", "/api/me"): [{"body": {"password": PASSWORD}}, {"body": {"password": "wrong"}}],
    }
    key = (operation.method.upper(), operation.path)
    return [operation.Case(**fields) for fields in by_operation.get(key, [{}])]


def fresh_idempotency_key(case: schemathesis.Case) -> None:
    """A valid generated `Idempotency-Key` made unique: generated keys repeat ("0"), and the same
    key with another body is rightly a 422 (SPEC §10); an invalid one stays, for the 400."""
    for name, value in (case.headers or {}).items():
        if name.lower() == "idempotency-key" and re.fullmatch(r"[\x21-\x7e]{1,200}", str(value)):
            case.headers[name] = uuid.uuid4().hex


def drops_authorization(case: schemathesis.Case) -> bool:
    """A negative case without the `Authorization` header the document requires: the missing header
    is (part of) what makes it invalid. Which cases are drawn depends on the literals in the
    project's own modules (hypothesis draws from them), so any change of code may bring one up."""
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    return negative and all(name.lower() != "authorization" for name in (case.headers or {}))


# A stream never ends by itself, so a fuzzer cannot read one: tests/live/ checks them.
FUZZED = [operation for operation in ALL_OPERATIONS if operation != ("GET", "/api/events")]


@pytest.mark.parametrize(("method", "path"), FUZZED)
def test_schemathesis_conformance(fuzz_target: FuzzTarget, method: str, path: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app, config=CONFIG)
    operation = schema[path][method]
    authenticated = (method, path) not in PUBLIC
    data = fuzz_target.data

    with asgi.get_client(fuzz_target.app) as http:

        def fresh_spare_token() -> dict[str, str]:
            credentials = {"email": data.spare_email, "password": PASSWORD}
            response = http.post("/api/token", json=credentials)
            assert response.status_code == 200, response.text
            return bearer(response.json()["token"])

        doomed = Counter[str]()

        def doomed_user_token() -> dict[str, str]:
            """A new account per case: DELETE /api/me may delete it (with PASSWORD, its password)."""
            doomed["n"] += 1
            credentials = {"email": f"doomed{doomed['n']}@example.com", "password": PASSWORD}
            user = {"username": f"doomed{doomed['n']}", **credentials}
            assert http.post("/api/users", json=user).status_code == 201
            return bearer(http.post("/api/token", json=credentials).json()["token"])

        def headers_for(case: schemathesis.Case, auth: str) -> dict[str, str] | None:
            if auth == "missing":
                case.headers = {
                    name: value
                    for name, value in (case.headers or {}).items()
                    if name.lower() != "authorization"
                }
                return None
            if auth == "unknown":
                return bearer(UNKNOWN_TOKEN)
            if (method, path) == ("DELETE", "/api/me"):
                return doomed_user_token()
            if (method, path) in REVOKES_TOKENS:
                return fresh_spare_token()
            return data.owner

        def check(case: schemathesis.Case, auth: str) -> None:
            if authenticated and auth == "valid" and drops_authorization(case):
                auth = "missing"  # its negation is the missing header: adding ours would undo it
            fresh_idempotency_key(case)
            headers = headers_for(case, auth)
            response = case.call(headers=headers)
            fuzz_target.statuses[response.status_code] += 1
            case.validate_response(response, headers=headers)
            if authenticated and auth != "valid":
                assert response.status_code >= 400, f"{auth} token, yet {response.status_code}"
            if authenticated and response.status_code == 401:  # SPEC §3: both 401s challenge
                challenge = {name.lower(): value for name, value in response.headers.items()}
                assert challenge.get("www-authenticate") == ["Bearer"], response.headers

        for case in explicit_cases(operation, data):
            check(case, "valid")
        variants = st.sampled_from(AUTH_VARIANTS if authenticated else ("valid",))
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            seed(SEED)(FUZZ_SETTINGS(given(case=strategy, auth=variants)(check)))()

        me = http.get("/api/me", headers=data.owner)
        assert me.status_code == 200, "the run revoked the owner's token"

    statuses = dict(sorted(fuzz_target.statuses.items()))
    assert any(200 <= status < 300 for status in statuses), f"never succeeded: {statuses}"
    assert sum(statuses.values()) >= MAX_EXAMPLES, f"too few requests: {statuses}"


# --- targeted checks for what the run found ---------------------------------------------------


@pytest.fixture
async def alice(client: Any, factory: Any) -> dict[str, str]:
    """Bearer headers of a user who owns note 1."""
    user = await factory.user("alice")
    headers = bearer(await api_token(client, user.email))
    response = await client.post("/api/notes", json={"title": "t", "content": "c"}, headers=headers)
    assert response.status_code == 201 and (await response.get_json())["id"] == 1
    return headers


@pytest.mark.parametrize("note_id", [0, MAX_ID + 1])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_out_of_range_note_id_is_a_json_404(
    client: Any, alice: dict[str, str], method: str, note_id: int
) -> None:
    body = {"json": {"title": "t", "content": "c"}} if method in {"PATCH", "PUT"} else {}
    response = await client.open(f"/api/notes/{note_id}", method=method, headers=alice, **body)
    assert (response.status_code, await response.get_json()) == (404, {"error": "Not found"})


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/token"), ("POST", "/api/users"), ("POST", "/api/notes")]
    + [("PATCH", "/api/notes/1"), ("PUT", "/api/notes/1")],
)
async def test_json_body_that_is_not_utf8_is_a_400(
    client: Any, alice: dict[str, str], method: str, path: str
) -> None:
    headers = {**alice, "Content-Type": "application/json"}
    response = await client.open(path, method=method, headers=headers, data=b'{"title": "\xff"}')
    assert (response.status_code, await response.get_json()) == (400, {"error": "No data provided"})
