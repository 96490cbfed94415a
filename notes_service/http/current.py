"""What routes hand the services from the running app: its password hasher, the box of its TOTP
secrets, how long its sign-ins live and when wrong sign-in codes lock an account.

Services take these as plain values and know nothing of the app or its settings; this is where
the http layer makes them from `current_app` and `Settings`.
"""

from __future__ import annotations

from datetime import timedelta

from quart import current_app

from ..config import Settings
from ..services.auth_sessions import Lifetime
from ..services.security import PasswordHasher
from ..services.totp import SecretBox, secret_box
from ..services.two_factor import CodeLockout


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


def current_code_lockout() -> CodeLockout:
    """When this app's accounts stop taking sign-in codes, and for how long."""
    settings: Settings = current_app.config["NOTES"]
    return CodeLockout(
        wrong_codes=settings.two_factor_max_wrong_codes,
        lasts=timedelta(seconds=settings.two_factor_lockout_seconds),
    )


def current_lifetime() -> Lifetime:
    """How long this app's auth sessions live."""
    return session_lifetime(current_app.config["NOTES"])
