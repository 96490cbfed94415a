"""`Cache-Control: no-store` on what belongs to one person: signed-in pages, /settings, the API."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, api_token, bearer, login, post_form

SIGNED_IN_PAGES = ["/", "/dashboard", "/notes", "/notes/new", "/settings", "/logout", "/no-such-page"]


@pytest.fixture
async def signed_in(client, factory):  # type: ignore[no-untyped-def]
    await factory.user("alice")
    response = await login(client, "alice@example.com")
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
async def test_every_page_of_a_signed_in_person_is_no_store(signed_in, path) -> None:
    response = await signed_in.get(path)
    assert response.mimetype == "text/html"
    assert response.headers.get("Cache-Control") == "no-store", path


async def test_the_page_that_shows_a_new_token_secret_is_no_store(signed_in) -> None:
    form = {"name": "laptop", "expires_in_days": ""}
    response = await post_form(signed_in, "/settings/tokens", form, form_page="/settings")
    assert response.status_code == 200 and 'id="new-token"' in await response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


async def test_every_api_answer_is_no_store(client, factory) -> None:
    await factory.user("bob")
    issued = await client.post("/api/token", json={"email": "bob@example.com", "password": PASSWORD})
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    token = await api_token(client, "bob@example.com")
    for path, headers in [("/api/me", bearer(token)), ("/api/notes", bearer(token)), ("/api/me", {}),
                          ("/api/nothing-here", {})]:  # fmt: skip
        response = await client.get(path, headers=headers)
        assert response.headers.get("Cache-Control") == "no-store", (path, response.status_code)


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/docs"])
async def test_anonymous_pages_stay_cacheable(client, path) -> None:
    response = await client.get(path)
    assert response.status_code == 200 and "Cache-Control" not in response.headers


async def test_static_files_of_a_signed_in_person_stay_cacheable(signed_in) -> None:
    response = await signed_in.get("/static/style.css")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
