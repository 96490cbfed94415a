"""What routes hand the services from the running app: its password hasher, the box of its TOTP
secrets and how long its sign-ins live.

Services take these as plain values and know nothing of the app or its settings; this is where
the http layer makes them from `current_app` and `Settings`.
"""

from __future__ import annotations

from quart import current_app

from ..config import Settings
from ..services.auth_sessions import Lifetime
from ..services.security import PasswordHasher
from ..services.totp import SecretBox, secret_box


def current_hasher() -> PasswordHasher:
    """This app's password hasher (made once in `create_app`)."""
    hasher: PasswordHasher = current_app.extensions["hasher"]
    return hasher


def current_box() -> SecretBox:
    """The box of this app's secret key."""
    return secret_box(str(current_app.secret_key))


def session_lifetime(settings: Settings) -> Lifetime:
    """How long auth sessions live under these settings."""
    return Lifetime.of(
        remember_days=settings.remember_days,
        idle_hours=settings.session_idle_hours,
        longest_hours=settings.session_max_hours,
    )


def current_lifetime() -> Lifetime:
    """How long this app's auth sessions live."""
    return session_lifetime(current_app.config["NOTES"])
