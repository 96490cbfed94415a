"""The one module-level app: `hypercorn notes_service.asgi:app`."""

from . import create_app
from .http.logs import configure_logging

configure_logging()
app = create_app()
