"""The account routes of `NotesClient`: tokens, registration, who am I, recovery, export.

A part of the client class (`NotesClient` inherits it), kept apart so each module stays short.
"""

from __future__ import annotations

from .errors import ResponseError
from .http import HTTP, given, json_of
from .models import Export, Note, Token, TokenInfo, User
from .pages import Pages, page_reader


class Accounts:
    """`/api/token`, `/api/tokens`, `/api/users`, `/api/me`, `/api/password`, `/api/email`, `/api/export`."""

    http: HTTP

    async def create_token(
        self,
        email: str,
        password: str,
        *,
        name: str | None = None,
        expires_in_days: int | None = None,
        otp: str | None = None,
    ) -> Token:
        """`POST /api/token`: a new token (the account's others stay valid); `otp` for 2FA accounts."""
        body = given(email=email, password=password, name=name, expires_in_days=expires_in_days, otp=otp)
        return Token.from_json(json_of(await self.http.request("POST", "/api/token", json=body)))

    async def login(
        self,
        email: str,
        password: str,
        *,
        name: str | None = None,
        expires_in_days: int | None = None,
        otp: str | None = None,
    ) -> Token:
        """`create_token`, then use the new token for every later call."""
        token = await self.create_token(email, password, name=name, expires_in_days=expires_in_days, otp=otp)
        self.http.token = token.token
        return token

    async def revoke_current_token(self) -> None:
        """`DELETE /api/token`: revoke the token this client uses (and forget it)."""
        await self.http.request("DELETE", "/api/token")
        self.http.token = None

    def list_tokens(self) -> Pages[TokenInfo]:
        """`GET /api/tokens`: the account's tokens, newest first (never their secrets)."""
        return Pages(page_reader(self.http, TokenInfo.from_json), "/api/tokens")

    async def revoke_token(self, token_id: int) -> None:
        """`DELETE /api/tokens/<id>`: revoke one of the account's tokens (`NotFound` if not one)."""
        await self.http.request("DELETE", f"/api/tokens/{token_id}")

    async def register(self, username: str, email: str, password: str) -> User:
        """`POST /api/users`: a new account (`Conflict` when the username or email is taken)."""
        body = {"username": username, "email": email, "password": password}
        return User.from_json(json_of(await self.http.request("POST", "/api/users", json=body)))

    async def me(self) -> User:
        """`GET /api/me`: the account of the token."""
        return User.from_json(json_of(await self.http.request("GET", "/api/me", replayable=True)))

    async def delete_account(self, password: str) -> None:
        """`DELETE /api/me`: the account and everything of it, for good."""
        await self.http.request("DELETE", "/api/me", json={"password": password})
        self.http.token = None

    async def forgot_password(self, email: str) -> None:
        """`POST /api/password/forgot`: mail a reset link, if the account exists (always accepted)."""
        await self.http.request("POST", "/api/password/forgot", json={"email": email})

    async def reset_password(self, token: str, new_password: str) -> None:
        """`POST /api/password/reset` with the mailed link's token (`BadRequest` when it is void)."""
        body = {"token": token, "new_password": new_password}
        await self.http.request("POST", "/api/password/reset", json=body)

    async def verify_email(self, token: str) -> None:
        """`POST /api/email/verify` with the mailed link's token (`BadRequest` when it is void)."""
        await self.http.request("POST", "/api/email/verify", json={"token": token})

    async def export(self) -> Export:
        """`GET /api/export`: the account and every note, trashed ones included."""
        body = json_of(await self.http.request("GET", "/api/export", replayable=True))
        if not isinstance(body, dict) or not isinstance(body.get("notes"), list):
            raise ResponseError("not an export")
        return Export(User.from_json(body.get("user")), tuple(Note.from_json(n) for n in body["notes"]))
