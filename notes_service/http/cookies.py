"""Cookies follow the request's scheme: Secure over HTTPS, and then `__Host-` names.

Plain-http localhost must keep working for a person trying the service out, so neither is fixed in
the configuration. Over HTTPS (directly, or through a trusted proxy), the `__Host-` prefix makes
browsers refuse the cookie unless it is Secure, for the whole site, and set by this host itself: a
sibling subdomain cannot plant one.
"""

from __future__ import annotations

from quart import has_request_context, request

SECURE_PREFIX = "__Host-"
AUTH_COOKIE = "notes_auth"  # quart-auth's: names the server-side auth session


def is_secure() -> bool:
    """This request came over HTTPS."""
    return has_request_context() and request.is_secure


def cookie_name(name: str) -> str:
    """`name`, prefixed with `__Host-` over HTTPS."""
    return SECURE_PREFIX + name if is_secure() else name
