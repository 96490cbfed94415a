"""Run the app under hypercorn with the repository's `hypercorn.toml` defaults."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click
from hypercorn.config import Config
from hypercorn.run import run as hypercorn_run

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = "notes_service.asgi:app"


def load_config(bind: str | None = None, workers: int | None = None) -> Config:
    """hypercorn.toml (from the current directory, else the checkout), then the command line."""
    for candidate in (Path("hypercorn.toml"), ROOT / "hypercorn.toml"):
        if candidate.exists():
            config = Config.from_toml(candidate)
            break
    else:
        config = Config()
    config.application_path = APPLICATION
    if bind:
        config.bind = [bind]
    if workers:
        config.workers = workers
    if importlib.util.find_spec("uvloop") is not None:
        config.worker_class = "uvloop"
    return config


def run(bind: str | None = None, workers: int | None = None) -> None:
    config = load_config(bind, workers)
    for address in config.bind:
        click.echo(f"notes-service listening on http://{address} ({config.workers} worker(s))")
    hypercorn_run(config)
