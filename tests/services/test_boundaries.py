"""The services know nothing of HTTP or settings (issue 21): no module under notes_service/services
imports quart (or quart-auth), quart-schema, werkzeug, `notes_service.config` or `notes_service.http`,
at its top or inside a function. Routes hand the services plain values (a hasher, a secret box, a
lifetime, a base URL) and map the rows they return to the API's shapes.

Read from the source with `ast`, so an import in a comment or a string does not count and one inside
a function does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import notes_service.services

pytestmark = pytest.mark.sqlite_pass_only

SERVICES = Path(notes_service.services.__file__).parent
PACKAGE = "notes_service.services"
FORBIDDEN = ("quart", "quart_auth", "quart_schema", "werkzeug", "notes_service.config", "notes_service.http")


def imported(source: str, package: str) -> set[str]:
    """Every module an import of `source` names (a module of `package`): `from a import b` names
    `a` and `a.b`, whichever `b` is; relative imports are resolved against `package`."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def forbidden(names: set[str]) -> list[str]:
    return sorted(name for name in names if any(name == f or name.startswith(f + ".") for f in FORBIDDEN))


SERVICE_MODULES = sorted(SERVICES.glob("*.py"))


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=[path.name for path in SERVICE_MODULES])
def test_a_service_imports_nothing_of_http_or_settings(path: Path) -> None:
    assert forbidden(imported(path.read_text(), PACKAGE)) == []


def test_every_service_module_is_read() -> None:
    assert {"notes.py", "tokens.py", "users.py", "security.py", "totp.py"} <= {
        p.name for p in SERVICE_MODULES
    }


@pytest.mark.parametrize(
    "source",
    [
        "from ..http.schemas import NoteOut",
        "from ..http import shapes",
        "from .. import config",
        "from ..config import Settings",
        "import quart",
        "from quart import current_app",
        "import werkzeug.routing",
        "from quart_schema import tag",
        "def current_box():\n    from quart import current_app\n    return current_app",
        "if TYPE_CHECKING:\n    from notes_service.http.auth import View",
    ],
)
def test_the_check_sees_each_way_of_importing(source: str) -> None:
    assert forbidden(imported(source, PACKAGE))


@pytest.mark.parametrize(
    "source",
    ["from ..data import Store", "from .rows import NoteRow", "import quartz", "from . import http_like"],
)
def test_the_check_lets_the_rest_through(source: str) -> None:
    assert forbidden(imported(source, PACKAGE)) == []
