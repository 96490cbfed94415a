"""The one module-level app: `hypercorn notes_service.asgi:app`."""

from . import create_app

app = create_app()
