"""Settings: defaults in code, NOTES_* environment overrides, strict checks in production.

Everything the service can be told lives here, read once at start. Tests pass a mapping instead of
touching the environment.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

INSTANCE_DIR = Path("instance")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///instance/notes.db"
DEFAULT_MAIL_FROM = "notes-service <no-reply@localhost>"
DEFAULT_REDIS_PREFIX = "notes:throttle:"
# Where emailed links point in development when NOTES_PUBLIC_URL is unset (SPEC §5).
DEVELOPMENT_URL = "http://127.0.0.1:8000"
MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = {
    "change-me",
    "changeme",
    "secret",
    "dev",
    "development",
    "test",
    "please-change",
}


class ConfigError(RuntimeError):
    """A setting that the service refuses to start with."""


@dataclass(frozen=True)
class RateLimit:
    """`COUNT/SECONDS`: at most `count` requests per `seconds` window."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """Parse `10/60`; `off` (or empty) disables throttling."""
        text = text.strip().lower()
        if text in {"", "off", "none", "0"}:
            return None
        try:
            count, seconds = (int(part) for part in text.split("/"))
        except ValueError as error:
            raise ConfigError(f"NOTES_AUTH_RATE_LIMIT must be COUNT/SECONDS or off, not {text!r}") from error
        if count < 1 or seconds < 1:
            raise ConfigError("NOTES_AUTH_RATE_LIMIT needs a positive count and period")
        return cls(count, seconds)


@dataclass(frozen=True)
class Settings:
    """The service's configuration; see SPEC §5 for what each one means."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    env: str = "development"
    redis_url: str | None = None
    # Where the throttle's keys live in Redis: deployments (or test runs) sharing one Redis keep apart.
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    public_url: str | None = None
    auth_rate_limit: RateLimit | None = field(default_factory=lambda: RateLimit(10, 60))
    bcrypt_rounds: int = 12
    trusted_proxy_hops: int = 0
    remember_days: int = 30
    session_idle_hours: int = 24
    # A browser-session sign-in ("remember me" off) also ends this long after it began, however active.
    session_max_hours: int = 7 * 24
    # How often each worker deletes expired auth sessions and tokens (serving/housekeeping.py).
    housekeeping_seconds: float = 3600.0
    # How long a correct password waits for its second factor at /login/2fa (SPEC §8: 5 minutes).
    two_factor_pending_seconds: int = 300
    # Wrong codes in a row (TOTP or recovery, /login/2fa and POST /api/token together) after which
    # an account takes no code for `two_factor_lockout_seconds` (SPEC §8: 5, and 15 minutes).
    two_factor_max_wrong_codes: int = 5
    two_factor_lockout_seconds: int = 900
    notes_per_page: int = 20
    # A note in the trash is deleted for good this many days after it went there (serving/housekeeping.py).
    trash_days: int = 30
    # A deletion marker stays in the change feed this many days (SPEC §10); a cursor from before a
    # purged one is told to sync from the start (services/changes.py).
    tombstone_days: int = 90
    # Mail (mail/sender.py): SMTP, or .eml files in `outbox_dir` when `smtp_url` is unset.
    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    outbox_dir: str = str(INSTANCE_DIR / "outbox")
    # How often each worker looks for due messages (SPEC: a message leaves within 5 s).
    mail_poll_seconds: float = 1.0
    # Pauses between attempts double from this, up to `mail_retry_max_seconds`, until
    # `mail_give_up_seconds` after the message was queued.
    mail_retry_seconds: float = 30.0
    mail_retry_max_seconds: float = 3600.0
    mail_give_up_seconds: float = 24 * 3600.0
    # A claimed message is left to others this long: longer than one delivery may take.
    mail_lease_seconds: float = 300.0
    smtp_timeout_seconds: float = 60.0
    # The live stream (SPEC §10, live/): a comment line this often on every open stream, and at most
    # this many open streams per user (all workers and hosts) and per worker process.
    events_heartbeat_seconds: float = 15.0
    events_per_user: int = 20
    events_per_worker: int = 10_000
    # How often a worker looks for other processes' changes when no notification tells it (SQLite
    # on one host, or while Redis or LISTEN is down), and re-checks its streams' sign-ins.
    events_poll_seconds: float = 0.25
    events_check_seconds: float = 1.0

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def link_base_url(self) -> str:
        """Where emailed links point: NOTES_PUBLIC_URL, or the development address."""
        return self.public_url or DEVELOPMENT_URL


ENVIRONMENT = {
    "database_url": "NOTES_DATABASE_URL",
    "secret_key": "NOTES_SECRET_KEY",
    "env": "NOTES_ENV",
    "redis_url": "NOTES_REDIS_URL",
    "redis_prefix": "NOTES_REDIS_PREFIX",
    "public_url": "NOTES_PUBLIC_URL",
    "auth_rate_limit": "NOTES_AUTH_RATE_LIMIT",
    "bcrypt_rounds": "NOTES_BCRYPT_ROUNDS",
    "trusted_proxy_hops": "NOTES_TRUSTED_PROXY_HOPS",
    "remember_days": "NOTES_REMEMBER_DAYS",
    "trash_days": "NOTES_TRASH_DAYS",
    "tombstone_days": "NOTES_TOMBSTONE_DAYS",
    "housekeeping_seconds": "NOTES_HOUSEKEEPING_SECONDS",
    "smtp_url": "NOTES_SMTP_URL",
    "mail_from": "NOTES_MAIL_FROM",
    "outbox_dir": "NOTES_OUTBOX_DIR",
    "mail_poll_seconds": "NOTES_MAIL_POLL_SECONDS",
    "mail_retry_seconds": "NOTES_MAIL_RETRY_SECONDS",
    "events_heartbeat_seconds": "NOTES_EVENTS_HEARTBEAT_SECONDS",
    "events_per_user": "NOTES_EVENTS_PER_USER",
    "events_per_worker": "NOTES_EVENTS_PER_WORKER",
    "events_poll_seconds": "NOTES_EVENTS_POLL_SECONDS",
    "events_check_seconds": "NOTES_EVENTS_CHECK_SECONDS",
}


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build settings from the environment, then `overrides` (tests), and check them."""
    values: dict[str, Any] = {}
    for name, variable in ENVIRONMENT.items():
        if variable in os.environ:
            values[name] = os.environ[variable]
    values.update(overrides or {})
    settings = Settings(
        **{f.name: _coerce(f.name, values[f.name]) for f in fields(Settings) if f.name in values}
    )
    if not settings.secret_key:
        if settings.is_production:
            raise ConfigError("NOTES_SECRET_KEY must be set when NOTES_ENV=production")
        settings = replace(settings, secret_key=instance_secret_key())
    check(settings)
    return settings


def check(settings: Settings) -> None:
    """Refuse settings that would be unsafe or meaningless."""
    if settings.env not in {"development", "production", "test"}:
        raise ConfigError(f"NOTES_ENV must be development, production or test, not {settings.env!r}")
    if settings.is_production:
        key = settings.secret_key
        if len(key) < MIN_SECRET_LENGTH or key.lower() in PLACEHOLDER_SECRETS or len(set(key)) < 8:
            raise ConfigError(
                f"NOTES_SECRET_KEY is too short or a placeholder; use at least {MIN_SECRET_LENGTH} "
                "random characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
    if settings.public_url is not None:
        parts = urlsplit(settings.public_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(
                f"NOTES_PUBLIC_URL must look like https://notes.example.com, not {settings.public_url!r}"
            )
    elif settings.is_production:
        raise ConfigError(
            "NOTES_PUBLIC_URL must be set when NOTES_ENV=production (e.g. https://notes.example.com)"
        )
    if not 4 <= settings.bcrypt_rounds <= 31:
        raise ConfigError("NOTES_BCRYPT_ROUNDS must be between 4 and 31")
    if settings.trusted_proxy_hops < 0 or settings.remember_days < 1:
        raise ConfigError("NOTES_TRUSTED_PROXY_HOPS must be >= 0 and NOTES_REMEMBER_DAYS >= 1")
    if settings.trash_days < 1:
        raise ConfigError("NOTES_TRASH_DAYS must be >= 1")
    if settings.tombstone_days < 1:
        raise ConfigError("NOTES_TOMBSTONE_DAYS must be >= 1")
    if settings.housekeeping_seconds <= 0:
        raise ConfigError("NOTES_HOUSEKEEPING_SECONDS must be positive")
    check_mail(settings)
    check_events(settings)


def check_events(settings: Settings) -> None:
    """Refuse live-stream limits below one and timers that are not positive."""
    if settings.events_per_user < 1 or settings.events_per_worker < 1:
        raise ConfigError("NOTES_EVENTS_PER_USER and NOTES_EVENTS_PER_WORKER must be >= 1")
    timers = (settings.events_heartbeat_seconds, settings.events_poll_seconds, settings.events_check_seconds)
    if min(timers) <= 0:
        raise ConfigError(
            "NOTES_EVENTS_HEARTBEAT_SECONDS, NOTES_EVENTS_POLL_SECONDS and NOTES_EVENTS_CHECK_SECONDS "
            "must be positive"
        )


def check_mail(settings: Settings) -> None:
    """Refuse an SMTP URL we could not use, an empty From, and timers that are not positive."""
    if settings.smtp_url is not None:
        parts = urlsplit(settings.smtp_url)
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname or parts.path not in {"", "/"}:
            raise ConfigError(
                "NOTES_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465"
            )
    if not settings.mail_from.strip():
        raise ConfigError("NOTES_MAIL_FROM must not be empty")
    timers = (settings.mail_poll_seconds, settings.mail_retry_seconds, settings.mail_retry_max_seconds)
    if min(timers) <= 0 or settings.mail_lease_seconds <= 0 or settings.smtp_timeout_seconds <= 0:
        raise ConfigError("NOTES_MAIL_POLL_SECONDS and NOTES_MAIL_RETRY_SECONDS must be positive")


def instance_secret_key(directory: Path = INSTANCE_DIR) -> str:
    """Read the development secret from `instance/secret_key`, generating it (mode 0600) once."""
    path = directory / "secret_key"
    if path.exists():
        return path.read_text().strip()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key


EVENT_COUNTS = ("events_per_user", "events_per_worker")
EVENT_TIMERS = ("events_heartbeat_seconds", "events_poll_seconds", "events_check_seconds")


def _coerce(name: str, value: Any) -> Any:
    """Turn an environment string into the field's type."""
    if not isinstance(value, str):
        return value
    if name == "auth_rate_limit":
        return RateLimit.parse(value)
    whole_numbers = {"bcrypt_rounds", "trusted_proxy_hops", "remember_days", "trash_days", "tombstone_days"}
    if name in whole_numbers | set(EVENT_COUNTS):
        try:
            return int(value)
        except ValueError as error:
            raise ConfigError(f"{ENVIRONMENT[name]} must be a whole number, not {value!r}") from error
    if name in {"mail_poll_seconds", "mail_retry_seconds", "housekeeping_seconds", *EVENT_TIMERS}:
        try:
            return float(value)
        except ValueError as error:
            raise ConfigError(f"{ENVIRONMENT[name]} must be a number of seconds, not {value!r}") from error
    if name in {"redis_url", "smtp_url"}:
        return value or None
    if name == "public_url":
        return value.rstrip("/") or None
    return value
