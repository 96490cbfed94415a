from __future__ import annotations

import asyncio
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from notes_service import create_app
from tests.conftest import SECRET_KEY, api_token, app_settings, bearer

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

async def _doc():
    app = create_app(app_settings("sqlite+aiosqlite:////nonexistent/x.db"))
    r = await app.test_client().get("/openapi.json")
    return await r.get_json()

DOC = asyncio.run(_doc())
schema = schemathesis.openapi.from_dict(DOC, config=CONFIG).include(path_regex="^/api/")


@pytest.fixture
async def fuzz_auth(app, client, factory) -> dict[str, Any]:
    user = await factory.user("fuzzer")
    token = await api_token(client, user.email)
    return {"headers": bearer(token)}


@pytest.fixture
def target(settings, fuzz_auth):
    t = create_app(settings)
    yield t
    asgi.shutdown_lifespans()


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_fuzz(case, fuzz_auth, target):
    case.call_and_validate(headers=fuzz_auth["headers"], app=target)
