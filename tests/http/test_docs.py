"""`/docs` comes from this app alone: no other host in the page or its policy, assets served here."""

from __future__ import annotations

import re

import pytest

ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}


async def test_docs_page_names_no_other_host_and_runs_no_inline_script(client) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = await response.get_data(as_text=True)
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert references and all(ref.startswith("/") and not ref.startswith("//") for ref in references)
    assert "//" not in page.replace("<!doctype html>", "")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "an inline script"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert not re.search(r"https?:|\*", policy)


@pytest.mark.parametrize("name", sorted(ASSET_TYPES))
async def test_swagger_ui_assets_are_served_from_the_installed_package(client, name) -> None:
    page = await (await client.get("/docs")).get_data(as_text=True)
    assert f"/docs/assets/{name}" in page
    response = await client.get(f"/docs/assets/{name}")
    assert response.status_code == 200 and response.mimetype == ASSET_TYPES[name]
    assert len(await response.get_data()) > 100_000  # the real bundle, not a placeholder


@pytest.mark.parametrize("name", ["VERSION", "..%2F..%2Fflask_swagger_ui.py", "swagger-ui.js.map"])
async def test_nothing_else_of_the_package_is_served(client, name) -> None:
    assert (await client.get(f"/docs/assets/{name}")).status_code == 404


async def test_the_init_script_is_a_static_file(client) -> None:
    response = await client.get("/static/docs.js")
    assert response.status_code == 200 and "SwaggerUIBundle" in await response.get_data(as_text=True)
