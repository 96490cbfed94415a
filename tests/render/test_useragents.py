"""The sessions table names the browser and system, not the raw User-Agent."""

from __future__ import annotations

import pytest

from notes_service.render.useragents import describe

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (CHROME_LINUX, "Chrome on Linux"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Windows",
        ),
        (CHROME_LINUX.replace("Safari/537.36", "Safari/537.36 Edg/131.0"), "Edge on Linux"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "Version/17.0 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_describe(agent: str | None, expected: str) -> None:
    assert describe(agent) == expected


async def test_dashboard_shows_the_trash_size(app, client, factory, store) -> None:  # type: ignore[no-untyped-def]
    from notes_service.services import notes as notes_service
    from tests.helpers import login

    user = await factory.user("alice")
    async with store.write():
        note = await notes_service.create_note(store, author_id=user.id, title="t", content="c")
        await notes_service.trash_note(store, note_id=note.id, author_id=user.id)
    await login(client, "alice@example.com")
    page = await (await client.get("/dashboard")).get_data(as_text=True)
    assert '<span class="number" id="trash-count">1</span>' in page
    assert '<span class="number" id="note-count">0</span>' in page
