"""What every per-request script measures: a user with 20 notes of 100 characters and an API token,
made through the services on the app's own database, with the service's log lines kept off the
terminal."""

import contextlib
import logging
import os
import tempfile

from notes_service import create_app
from notes_service.services import notes, tokens
from tests.helpers import Factory, app_settings


def quiet_logs():
    """The service's log lines (the access line of every request) go to a temporary file."""
    from notes_service.http.logs import configure_logging

    configure_logging()
    logging.getLogger("notes_service").handlers[0].stream = open(os.path.join(tempfile.mkdtemp(), "log"), "w")


async def twenty_note_reader(app):
    """(the app's store, the user's row, the token's secret)."""
    store = app.extensions["database"].store()
    user = await Factory(store, app.extensions["hasher"]).user()
    async with store.write():
        for i in range(20):
            await notes.create_note(store, author_id=user.id, title=f"Note {i}", content="c" * 100)
        _, secret = await tokens.issue_token(
            store, user_id=user.id, name="x", expires_in_days=None, security_stamp=None
        )
    return store, user, secret


@contextlib.asynccontextmanager
async def serving_reader(url):
    """The app on the database at `url`, serving, quiet, with the reader made: (app, store, user,
    secret)."""
    quiet_logs()
    app = create_app(app_settings(url))
    async with app.test_app():
        yield app, *await twenty_note_reader(app)
