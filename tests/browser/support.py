"""What the browser tests share: the wait limit, the CSP watch, a context cut off from other hosts,
and signing in through the form."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from tests.helpers import PASSWORD

TIMEOUT_MS = 10_000
# Run before any page script: every script, style or image the CSP refuses is recorded here.
CSP_WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def offline_context(browser: Any, server: str, **options: Any) -> tuple[Any, list[str]]:
    """A browser context that reaches `server` only, as a machine without internet: a request to any
    other host fails, and its address is recorded in the list returned with the context."""
    own_host = urllib.parse.urlsplit(server).netloc
    elsewhere: list[str] = []

    def only_the_service(route: Any) -> None:
        if urllib.parse.urlsplit(route.request.url).netloc == own_host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context = browser.new_context(base_url=server, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", only_the_service)
    context.add_init_script(CSP_WATCH)
    return context, elsewhere


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through /login as a person does; back on the home page after."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
