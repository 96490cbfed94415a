"""Settings: environment overrides and the production checks."""

from __future__ import annotations

import stat

import pytest

from notes_service.config import ENVIRONMENT, ConfigError, RateLimit, instance_secret_key, load_settings

STRONG = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789"


def test_defaults(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///instance/notes.db"
    assert settings.auth_rate_limit == RateLimit(10, 60)
    assert (settings.bcrypt_rounds, settings.trusted_proxy_hops, settings.remember_days) == (12, 0, 30)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text().strip() == settings.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings().secret_key == settings.secret_key  # generated once


def test_environment_overrides(monkeypatch) -> None:
    monkeypatch.setenv("NOTES_SECRET_KEY", STRONG)
    monkeypatch.setenv("NOTES_AUTH_RATE_LIMIT", "off")
    monkeypatch.setenv("NOTES_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("NOTES_TRUSTED_PROXY_HOPS", "1")
    monkeypatch.setenv("NOTES_REDIS_PREFIX", "staging:throttle:")
    monkeypatch.setenv("NOTES_HOUSEKEEPING_SECONDS", "0.5")
    settings = load_settings()
    assert settings.auth_rate_limit is None and settings.bcrypt_rounds == 4
    assert settings.trusted_proxy_hops == 1
    assert (settings.redis_prefix, settings.housekeeping_seconds) == ("staging:throttle:", 0.5)


@pytest.mark.parametrize("key", [None, "", "change-me", "short", "a" * 40])
def test_production_refuses_missing_short_or_placeholder_secret(monkeypatch, key) -> None:
    monkeypatch.setenv("NOTES_ENV", "production")
    monkeypatch.setenv("NOTES_PUBLIC_URL", "https://notes.example.com")
    if key is None:
        monkeypatch.delenv("NOTES_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("NOTES_SECRET_KEY", key)
    with pytest.raises(ConfigError, match="NOTES_SECRET_KEY"):
        load_settings()


def test_production_accepts_a_strong_secret(monkeypatch) -> None:
    monkeypatch.setenv("NOTES_ENV", "production")
    monkeypatch.setenv("NOTES_SECRET_KEY", STRONG)
    monkeypatch.setenv("NOTES_PUBLIC_URL", "https://notes.example.com/")
    settings = load_settings()
    assert settings.is_production and settings.public_url == "https://notes.example.com"


def test_production_refuses_to_start_without_a_public_url(monkeypatch) -> None:
    monkeypatch.setenv("NOTES_ENV", "production")
    monkeypatch.setenv("NOTES_SECRET_KEY", STRONG)
    monkeypatch.delenv("NOTES_PUBLIC_URL", raising=False)
    with pytest.raises(ConfigError, match="NOTES_PUBLIC_URL must be set"):
        load_settings()


@pytest.mark.parametrize(
    "url", ["notes.example.com", "ftp://notes.example.com", "https://", "https://x.example/?a=1"]
)
def test_a_public_url_that_is_not_one_is_refused(monkeypatch, url) -> None:
    monkeypatch.setenv("NOTES_PUBLIC_URL", url)
    with pytest.raises(ConfigError, match="NOTES_PUBLIC_URL must look like"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NOTES_AUTH_RATE_LIMIT", "ten"),
        ("NOTES_BCRYPT_ROUNDS", "x"),
        ("NOTES_BCRYPT_ROUNDS", "3"),
        ("NOTES_ENV", "prod"),
    ],
)
def test_bad_values_are_refused_with_a_clear_error(monkeypatch, name, value) -> None:
    monkeypatch.setenv("NOTES_SECRET_KEY", STRONG)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError):
        load_settings()


def test_instance_secret_is_reused(tmp_path) -> None:
    assert instance_secret_key(tmp_path) == instance_secret_key(tmp_path)


def test_mail_settings(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)
    defaults = load_settings()
    assert (defaults.smtp_url, defaults.mail_from) == (None, "notes-service <no-reply@localhost>")
    assert (defaults.outbox_dir, defaults.link_base_url) == ("instance/outbox", "http://127.0.0.1:8000")
    monkeypatch.setenv("NOTES_SMTP_URL", "smtps://user:p%40ss@mail.example.com:465")
    monkeypatch.setenv("NOTES_MAIL_POLL_SECONDS", "0.5")
    monkeypatch.setenv("NOTES_PUBLIC_URL", "https://notes.example.com/")
    settings = load_settings()
    assert settings.smtp_url == "smtps://user:p%40ss@mail.example.com:465"
    assert (settings.mail_poll_seconds, settings.link_base_url) == (0.5, "https://notes.example.com")
    for bad in ("http://mail.example.com", "smtp://", "smtp://user:hunter2@host:port", "smtp://host/path"):
        monkeypatch.setenv("NOTES_SMTP_URL", bad)
        with pytest.raises(ConfigError, match="NOTES_SMTP_URL") as error:
            load_settings()
        assert "hunter2" not in str(error.value)
    monkeypatch.setenv("NOTES_SMTP_URL", "")
    assert load_settings().smtp_url is None
    monkeypatch.setenv("NOTES_MAIL_POLL_SECONDS", "0")
    with pytest.raises(ConfigError, match="NOTES_MAIL_POLL_SECONDS"):
        load_settings()


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_housekeeping_interval_must_be_a_positive_number(monkeypatch, value) -> None:
    monkeypatch.setenv("NOTES_HOUSEKEEPING_SECONDS", value)
    with pytest.raises(ConfigError, match="NOTES_HOUSEKEEPING_SECONDS"):
        load_settings()


def test_deletion_markers_are_kept_90_days_unless_told(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)
    assert load_settings().tombstone_days == 90
    monkeypatch.setenv("NOTES_TOMBSTONE_DAYS", "7")
    assert load_settings().tombstone_days == 7
    for bad in ("0", "ninety"):
        monkeypatch.setenv("NOTES_TOMBSTONE_DAYS", bad)
        with pytest.raises(ConfigError, match="NOTES_TOMBSTONE_DAYS"):
            load_settings()
