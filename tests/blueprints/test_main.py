"""Home page and the health probes."""

from __future__ import annotations

from notes_service import create_app
from tests.conftest import app_settings


async def test_healthz(client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and await response.get_json() == {"status": "ok"}


async def test_readyz_when_the_database_answers(client) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200 and await response.get_json() == {"status": "ready"}


async def test_readyz_is_503_when_the_database_does_not_answer() -> None:
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    app = create_app(app_settings(unreachable))
    async with app.test_app():
        response = await app.test_client().get("/readyz")
        assert response.status_code == 503
        assert (await app.test_client().get("/healthz")).status_code == 200
