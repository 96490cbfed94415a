"""notes-service: an async notes app with real authentication.

`create_app` wires configuration, extensions, blueprints and error handlers; nothing else happens at
import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypercorn.middleware import ProxyFixMiddleware
from quart import Quart
from quart_schema import QuartSchema

from . import data, live, render
from .blueprints import account, api, app_json, events, main, notes, recovery, settings, trash, two_factor
from .config import load_settings
from .http import auth, docs, errors, throttle, web
from .http.connections import Abortable
from .http.handover import HandoverMiddleware
from .http.logs import AccessLog
from .http.schemas import APIOnlyProvider
from .http.serializers import JSONProvider
from .mail import sender
from .services.security import PasswordHasher
from .serving import housekeeping

MAX_BODY_BYTES = 1024 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Quart:
    """Build the app; `config` overrides NOTES_* settings (tests pass a mapping here)."""
    app = Quart(__name__)
    notes_config = load_settings(config)
    app.config.update(
        NOTES=notes_config,
        SECRET_KEY=notes_config.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_NAME="notes_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["hasher"] = PasswordHasher(notes_config.bcrypt_rounds)
    QuartSchema(
        app,
        info={"title": "notes-service API", "version": "1.0.0"},
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,  # http/docs.py serves /docs without a CDN
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        openapi_provider_class=APIOnlyProvider,
    )
    app.json = JSONProvider(app)  # after QuartSchema, which installs its own
    data.init_app(app)
    housekeeping.init_app(app)
    sender.init_app(app)
    live.init_app(app)
    throttle.init_app(app)
    auth.init_app(app)  # before web: error pages for refused forms still know who is signed in
    web.init_app(app)
    render.init_app(app)
    errors.init_app(app)
    for blueprint in (
        main.blueprint,
        account.blueprint,
        recovery.blueprint,
        notes.blueprint,
        trash.blueprint,
        settings.blueprint,
        two_factor.blueprint,
        events.blueprint,
        app_json.blueprint,
    ):
        app.register_blueprint(blueprint)
    api.init_app(app)
    docs.init_app(app)
    # Quart declares asgi_app as a method; replacing it with middleware is Quart's documented way.
    # Innermost: live streams run their bodies after Quart's request is over (issue 22).
    app.asgi_app = HandoverMiddleware(app.asgi_app)  # type: ignore[method-assign]
    app.asgi_app = web.CloseAfterUnreadBody(app.asgi_app)  # type: ignore[method-assign]
    app.asgi_app = AccessLog(app.asgi_app)  # type: ignore[method-assign]
    if notes_config.trusted_proxy_hops:
        # Real client address, scheme and host from the proxies we trust, before anything reads them.
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app, mode="legacy", trusted_hops=notes_config.trusted_proxy_hops
        )
    # Outermost: the event streams get their connection, to drop it when a client stops reading.
    app.asgi_app = Abortable(app.asgi_app)  # type: ignore[method-assign]
    return app
