"""`/docs` renders Swagger UI in a real browser that cannot reach any host but the service.

Every request the page makes to another host is refused (and recorded), as on a machine without
internet; the page must still show the API's operations, and break no rule of its own CSP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.support import offline_context
from tests.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with Server(tmp_path_factory.mktemp("docs-server")).start() as server:
        yield server.url


def test_docs_render_offline_from_the_service_alone(browser: Any, server: str, sync_api: Any) -> None:
    context, elsewhere = offline_context(browser, server)
    try:
        page = context.new_page()
        response = page.goto("/docs")
        assert response is not None and response.status == 200
        operations = page.locator(".opblock-summary-path")
        sync_api.expect(operations.filter(has_text="/api/notes").first).to_be_visible()
        assert operations.count() > 5
        assert page.evaluate("window.cspViolations") == []
        assert elsewhere == []
    finally:
        context.close()
