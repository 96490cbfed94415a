"""The JSON API under /api: bearer tokens only, JSON in and out, errors included."""

from __future__ import annotations

from quart import Quart

from . import accounts, changes, events, notes, recovery, trash


def init_app(app: Quart) -> None:
    app.register_blueprint(accounts.blueprint)
    app.register_blueprint(notes.blueprint)
    app.register_blueprint(trash.blueprint)
    app.register_blueprint(changes.blueprint)
    app.register_blueprint(events.blueprint)
    app.register_blueprint(recovery.blueprint)
