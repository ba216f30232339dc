"""Request and response shapes of the identity API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, examples=["ada@example.com"])]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class SignupRequest(msgspec.Struct):
    email: Email
    password: Password
    display_name: DisplayName


class LoginRequest(msgspec.Struct):
    email: Email
    password: Password


class RefreshRequest(msgspec.Struct):
    refresh_token: str | None = None
    """Omit it when the refresh cookie set at login is sent instead."""


class TokenRequest(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ForgotPasswordRequest(msgspec.Struct):
    email: Email


class ResetPasswordRequest(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Password


class TokenPair(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    csrf_token: str
    """Echo it in `X-CSRF-Token` on unsafe requests authenticated by the session cookie."""


class UserRead(msgspec.Struct):
    id: UUID
    email: str
    display_name: str
    role: str
    is_verified: bool
    created_at: datetime


class SessionRead(msgspec.Struct):
    id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip_address: str | None
    current: bool


class SessionList(msgspec.Struct):
    items: list[SessionRead]


class Accepted(msgspec.Struct):
    detail: str
