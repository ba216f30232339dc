"""With Redis unreachable, signed-in reads still work and Redis-bound requests answer 503."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from litestar.security.jwt import Token
from litestar.testing import TestClient

from apps.gateway import create_app
from apps.kernel.settings import load_settings, reset_settings
from tests.conftest import sign_up


def test_redis_outage_is_503_not_500(stack, client, monkeypatch):
    account = sign_up(client)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    reset_settings()
    try:
        _check_outage(account, load_settings())
    finally:
        monkeypatch.undo()
        reset_settings()


def _check_outage(account, settings):
    now = datetime.now(UTC)
    token = Token(
        sub=account.id,
        exp=now + timedelta(minutes=5),
        iat=now,
        jti=uuid4().hex,
        extras={"email": account.email, "name": "Alice", "role": "user", "sid": str(uuid4())},
    ).encode(secret=settings.jwt_secret, algorithm="HS256")
    with TestClient(create_app([], settings=settings), raise_server_exceptions=False) as down:
        me = down.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200  # the deny-list check fails open, the DB answers
        login = down.post(
            "/auth/login", json={"email": account.email, "password": account.password}
        )
        assert login.status_code == 503
        assert login.headers["retry-after"]
        assert login.headers["content-type"].startswith("application/problem+json")
        assert down.get("/ready").status_code == 503
