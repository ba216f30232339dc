"""The verified-token cache: a token is verified once, yet expiry and logout still apply."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from litestar.security.jwt import Token

from apps.kernel.identity import auth
from apps.kernel.identity.auth import CurrentUser, VerifiedTokens


def _token(expires_in: float) -> Token:
    token = Token(sub=str(uuid.uuid4()), exp=datetime.now(UTC) + timedelta(seconds=60))
    # Token refuses an `exp` in the past at construction; set the moment afterwards.
    token.exp = datetime.now(UTC) + timedelta(seconds=expires_in)
    return token


def _user() -> CurrentUser:
    return CurrentUser(uuid.uuid4(), "a@example.com", "A", "user", None)


def test_a_cached_token_past_its_expiry_is_a_miss():
    cache = VerifiedTokens()
    cache.put("secret", "live", _token(60), _user())
    cache.put("secret", "dead", _token(-1), _user())
    assert cache.get("secret", "live") is not None
    assert cache.get("secret", "dead") is None
    assert cache.get("other secret", "live") is None


def test_the_cache_is_bounded_oldest_first():
    cache = VerifiedTokens(size=2)
    for name in ("a", "b", "c"):
        cache.put("s", name, _token(60), _user())
    assert cache.get("s", "a") is None
    assert cache.get("s", "b") is not None and cache.get("s", "c") is not None


def test_a_session_verifies_its_token_once(client, user, monkeypatch: pytest.MonkeyPatch):
    auth.VERIFIED_TOKENS.clear()
    decodes = []
    original = Token.decode.__func__  # type: ignore[attr-defined]

    def counting(cls, *args, **kwargs):
        decodes.append(time.monotonic())
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Token, "decode", classmethod(counting))
    for _ in range(3):
        assert client.get("/auth/me", headers=user.headers).status_code == 200
    assert len(decodes) == 1
    tampered = {"Authorization": user.headers["Authorization"][:-2] + "xx"}
    assert client.get("/auth/me", headers=tampered).status_code == 401
    assert len(decodes) == 2


def test_logout_rejects_a_cached_token(client, user):
    assert client.get("/auth/me", headers=user.headers).status_code == 200
    assert client.post("/auth/logout", headers=user.headers).status_code == 204
    assert client.get("/auth/me", headers=user.headers).status_code == 401
