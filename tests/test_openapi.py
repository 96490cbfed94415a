from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from notes_service import create_app

from tests.conftest import PASSWORD, api_token, bearer

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240601,
        "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
        },
    }
)


@pytest.fixture
async def fuzz_auth(app, client, factory) -> dict[str, Any]:
    user = await factory.user("fuzzer")
    token = await api_token(client, user.email)
    return {"headers": bearer(token)}


@pytest.fixture
def api_schema(settings, fuzz_auth):
    target = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", target, config=CONFIG)
    yield schema.include(path_regex="^/api/")
    asgi.shutdown_lifespans()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_fuzz(case, fuzz_auth):
    case.call_and_validate(headers=fuzz_auth["headers"])
