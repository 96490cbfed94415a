"""Home page and the health probes."""

from __future__ import annotations

from sqlalchemy import text

from notes_service import create_app
from notes_service.data.engine import create_engine
from notes_service.data.types import Base
from tests.helpers import app_settings


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
        assert await response.get_json() == {"status": "database unavailable"}
        assert (await app.test_client().get("/healthz")).status_code == 200


async def test_readyz_is_503_on_a_database_without_the_schema(tmp_path) -> None:
    app = create_app(app_settings(f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}"))
    async with app.test_app():
        response = await app.test_client().get("/readyz")
        assert response.status_code == 503
        assert await response.get_json() == {"status": "database not migrated"}


async def test_readyz_is_503_when_a_table_is_missing(database_url) -> None:
    # A partly migrated database, on the suite's backend (PostgreSQL's error differs from SQLite's).
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE {Base.metadata.sorted_tables[-1].name}"))
    await engine.dispose()
    app = create_app(app_settings(database_url))
    async with app.test_app():
        response = await app.test_client().get("/readyz")
        assert response.status_code == 503
        assert await response.get_json() == {"status": "database not migrated"}


async def test_an_unreachable_database_is_a_json_503_without_traceback() -> None:
    # Refused connections say "try again shortly" (http/errors.py); other crashes stay a 500
    # (tests/http/test_error_pages.py).
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    app = create_app(app_settings(unreachable))
    async with app.test_app():
        response = await app.test_client().get("/api/me", headers={"Authorization": "Bearer nts_x"})
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert await response.get_json() == {"error": "Service unavailable"}


async def test_error_page_falls_back_to_plain_html(client, monkeypatch) -> None:
    async def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("templates unavailable")

    monkeypatch.setattr("notes_service.http.errors.render_template", broken)
    response = await client.get("/no-such-page?<b>")
    page = await response.get_data(as_text=True)
    assert response.status_code == 404 and "<h1>There is nothing at this address</h1>" in page
    assert '<a href="/">Back to the home page</a>' in page
