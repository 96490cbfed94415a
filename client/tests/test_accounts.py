"""Tokens, accounts, password reset and email confirmation against the real server: typed results."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import NewClient
from support import FAST, PASSWORD, mailed_token, new_account
from tests.server import Server

from notes_client import (
    BadRequest,
    Conflict,
    NotesClient,
    NotFound,
    Token,
    TokenInfo,
    Unauthorized,
    User,
)


async def test_register_login_and_me(server: Server) -> None:
    account = new_account()
    async with NotesClient(server.url, retry=FAST) as client:
        user = await client.register(account.username, account.email, account.password)
        assert isinstance(user, User) and user.username == account.username and user.email == account.email
        assert isinstance(user.created_at, datetime) and user.created_at.tzinfo is not None
        token = await client.login(account.email, account.password, name="laptop", expires_in_days=7)
        assert isinstance(token, Token) and token.token_type == "Bearer" and token.expires_at is not None
        assert client.token == token.token
        me = await client.me()
        assert me.id == user.id and me.email_verified is False and me.two_factor is False


async def test_tokens_list_and_revoke(new_client: NewClient, server: Server) -> None:
    client, account = await new_client()
    async with NotesClient(server.url, retry=FAST) as second:
        await second.login(account.email, account.password, name="phone")
        tokens = await client.list_tokens().all()
        assert [type(token) for token in tokens] == [TokenInfo, TokenInfo]
        phone = next(token for token in tokens if token.name == "phone")
        await client.revoke_token(phone.id)
        with pytest.raises(Unauthorized, match="Invalid token"):
            await second.me()
        with pytest.raises(NotFound):
            await client.revoke_token(phone.id)
        assert [token.name for token in await client.list_tokens().all()] == ["API token"]


async def test_revoke_current_token(client: NotesClient) -> None:
    token = client.token
    await client.revoke_current_token()
    assert client.token is None
    client.token = token
    with pytest.raises(Unauthorized, match="Invalid token"):
        await client.me()


async def test_register_conflict(new_client: NewClient, server: Server) -> None:
    _, account = await new_client()
    async with NotesClient(server.url, retry=FAST) as client:
        with pytest.raises(Conflict) as taken:
            await client.register(account.username, "other@example.com", PASSWORD)
    assert taken.value.status == 409 and "username" in taken.value.details


async def test_password_reset_through_the_mailed_link(new_client: NewClient, server: Server) -> None:
    client, account = await new_client()
    await client.forgot_password(account.email)
    token = await mailed_token(server, account.email, "Reset your password")
    await client.reset_password(token, "a brand new password")
    with pytest.raises(Unauthorized):  # a reset ends every token of the account
        await client.me()
    with pytest.raises(BadRequest, match="Invalid or expired token"):  # a link works once
        await client.reset_password(token, "yet another password")
    await client.login(account.email, "a brand new password")
    assert (await client.me()).email_verified is True  # a reset proves the address


async def test_verify_email_through_the_mailed_link(new_client: NewClient, server: Server) -> None:
    client, account = await new_client()
    token = await mailed_token(server, account.email, "Confirm your email address")
    await client.verify_email(token)
    assert (await client.me()).email_verified is True
    with pytest.raises(BadRequest, match="Invalid or expired token"):
        await client.verify_email("not-a-token")


async def test_delete_account(new_client: NewClient, server: Server) -> None:
    client, account = await new_client()
    await client.create_note(title="Gone soon", content="with the account")
    with pytest.raises(Unauthorized, match="Invalid credentials"):
        await client.delete_account("not the password")
    await client.delete_account(account.password)
    async with NotesClient(server.url, retry=FAST) as again:
        with pytest.raises(Unauthorized, match="Invalid credentials"):
            await again.login(account.email, account.password)


async def test_export(client: NotesClient) -> None:
    kept = await client.create_note(title="Kept", content="here")
    trashed = await client.create_note(title="Trashed", content="there")
    await client.delete_note(trashed)
    export = await client.export()
    assert export.user == await client.me()
    assert [(note.id, note.deleted_at is None) for note in export.notes] == [
        (kept.id, True),
        (trashed.id, False),
    ]
