"""What the pages say: the home page's greeting, error pages, the favicon, times as `<time>`."""

from __future__ import annotations

import re

from notes_service.services import notes as notes_service
from tests.helpers import PASSWORD, login, post_form

WELCOME_BACK = "Good to see you again"


async def test_a_brand_new_account_is_not_welcomed_back(client) -> None:
    form = {
        "username": "alice",
        "email": "alice@example.com",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    response = await post_form(client, "/register", form)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Account created successfully." in page
    assert WELCOME_BACK not in page
    assert "Write your first note" in page


async def test_someone_with_notes_is_welcomed_back(client, factory, store) -> None:
    alice = await factory.user("alice")
    async with store.write():
        await notes_service.create_note(store, author_id=alice.id, title="t", content="c", is_pinned=False)
    await login(client, "alice@example.com")
    page = await (await client.get("/")).get_data(as_text=True)
    assert f"{WELCOME_BACK}, alice." in page


def main_text(page: str) -> str:
    """The text of <main>, tags dropped."""
    main = page.split("<main>", 1)[1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


async def test_an_error_page_says_its_message_once_with_a_way_home(client) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    text = main_text(await response.get_data(as_text=True))
    assert text.count("There is nothing at this address") == 1, text
    assert "Back to the home page" in text


async def test_an_error_page_of_a_signed_in_person_leads_back_to_the_notes(client, factory) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    response = await client.get("/notes/999999")
    assert response.status_code == 404
    page = await response.get_data(as_text=True)
    assert main_text(page).count("There is nothing at this address") == 1
    assert re.search(r'<a href="/notes">Back to your notes</a>', page)


async def test_an_error_page_with_its_own_message_shows_title_and_message(client) -> None:
    response = await client.post("/notes/new", form={"title": "x", "content": "y"})  # no CSRF token
    assert response.status_code == 400
    text = main_text(await response.get_data(as_text=True))
    assert text.count("That request could not be used") == 1 and "Back to the home page" in text
    assert "reload the page and try again" in text  # the reason is there too


async def test_favicon(client) -> None:
    page = await (await client.get("/")).get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    for path in ("/static/favicon.svg", "/favicon.ico"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "image/svg+xml", path
        assert (await response.get_data(as_text=True)).startswith("<svg"), path


async def test_times_are_utc_time_elements(client, factory, store) -> None:
    alice = await factory.user("alice")
    async with store.write():
        note = await notes_service.create_note(
            store, author_id=alice.id, title="t", content="c", is_pinned=False
        )
    await login(client, "alice@example.com")
    for path in ("/notes", "/dashboard", "/settings"):
        page = await (await client.get(path)).get_data(as_text=True)
        times = re.findall(r'<time datetime="([^"]+)"[^>]*>([^<]*)</time>', page)
        assert times, path
        for moment, text in times:
            assert moment.endswith("+00:00") and re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d)? UTC", text), (
                path,
                text,
            )
    page = await (await client.get(f"/notes/{note.id}")).get_data(as_text=True)
    assert re.search(r'Written <time datetime="[^"]+">[^<]+ UTC</time>', page)
